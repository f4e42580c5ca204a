#!/usr/bin/env node
'use strict';
// Entry point of the `ftpipe` command: runs the compiled CLI from dist/ (built by `npm run build`, which `npm install` runs).
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(__dirname, '..', 'dist');
const entry = path.join(dist, 'src', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  console.error('ftpipe: not built yet; run `npm run build` (npm install does it) in ' + path.join(__dirname, '..'));
  process.exit(2);
}
// `ftpipe worker` without the worker's process settings runs itself again with them (dist/workers/launcher.js says why).
// As in src/cli/main.ts, the first word that is not an option names the command.
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
if (command !== 'worker' || !require(path.join(dist, 'workers', 'launcher.js')).launchWithWorkerSettings()) void require(entry).main();
