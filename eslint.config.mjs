// Lint: type-aware rules everywhere, plus the determinism rules Temporal requires of workflow code.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Selectors for a workflow type or a signal, query or update name written as a string where Temporal is called. */
function messageNameRules() {
  const text = '/^(Literal|TemplateLiteral)$/';
  const message = 'Name workflow types and messages through workflows/messages.ts (a definition or a *_WORKFLOW_TYPE constant), not as a string.';
  return [
    // Temporal's own queries (`__temporal_workflow_metadata`, `__stack_trace`) are Temporal's names, not ftpipe's.
    `CallExpression[callee.property.name=/^(signal|query|executeUpdate|startUpdate|executeUpdateWithStart|startUpdateWithStart)$/][arguments.0.type=${text}]:not([arguments.0.value=/^__/])`,
    `CallExpression[callee.object.property.name='workflow'][callee.property.name=/^(start|execute|signalWithStart)$/][arguments.0.type=${text}]`,
    `CallExpression[callee.property.name='signalWithStart'] > ObjectExpression > Property[key.name='signal'][value.type=${text}]`,
  ].map((selector) => ({ selector, message }));
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.ftpipe/', 'test-artifacts/', 'bench/out/', 'bin/', 'test/fixtures/lint/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Activities are async by contract (Temporal types them as returning promises), awaited or not.
      '@typescript-eslint/require-await': 'off',
      'no-warning-comments': ['error', { terms: ['todo', 'fixme', 'xxx'], location: 'start' }],
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    // Workflow types and message names are spelled once, in workflows/messages.ts (the admission queue's beside it in
    // workflows/admission.ts, test fixtures' in their workflow files): callers pass the definitions or the constants,
    // so a rename is one edit that the compiler follows.
    files: ['**/*.ts'],
    ignores: ['workflows/messages.ts', 'workflows/admission.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...messageNameRules()],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no clocks, no randomness, no SDK parts meant for workers.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must not use Node built-ins (non-deterministic).' })),
          patterns: [
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'], message: 'Workflows may import only @temporalio/workflow and @temporalio/common.' },
            { group: ['openai', 'openai/*', '@azure/*', 'pino', 'undici', 'uuid', 'nanoid'], message: 'Workflows do no I/O: call an activity.' },
            { group: ['../activities', '../activities/*'], allowTypeImports: true, message: 'Workflows import activity code by type only (proxyActivities).' },
          ],
        },
      ],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'fetch', message: 'Workflows do no I/O: call an activity.' },
        { name: 'process', message: 'Workflows must not read the environment.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Date.now() in workflows is replay-safe only through the SDK; prefer workflowInfo() or the SDK clock, never as a source of identity.' },
        { object: 'Math', property: 'random', message: 'Use uuid4() from @temporalio/workflow or deterministic seeds.' },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
