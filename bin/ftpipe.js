#!/usr/bin/env node
'use strict';
// Entry point of the `ftpipe` command: runs the compiled CLI from dist/ (built by `npm run build`, which `npm install` runs).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error('ftpipe: not built yet; run `npm run build` (npm install does it) in ' + path.join(__dirname, '..'));
  process.exit(2);
}
void require(entry).main();
