/** The CLI loads only the module of the command it runs: its table of modules must name what each one registers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { buildProgram, COMMAND_MODULES } from '../../src/cli/main';

describe('ftpipe command modules', () => {
  it('lists exactly the commands each module registers, each command once', async () => {
    for (const entry of COMMAND_MODULES) {
      const program = new Command();
      (await entry.load())(program);
      assert.deepEqual(program.commands.map((c) => c.name()).sort(), [...entry.commands].sort());
    }
    const all = COMMAND_MODULES.flatMap((entry) => entry.commands);
    assert.equal(new Set(all).size, all.length);
  });

  it('builds only the named command, and every command for help or an unknown word', async () => {
    const names = async (...args: string[]): Promise<string[]> => (await buildProgram(['node', 'ftpipe', ...args])).commands.map((c) => c.name()).sort();
    assert.deepEqual(await names('validate', 'file.jsonl', '--model', 'gpt-4.1-mini'), ['validate']);
    const runCommands = COMMAND_MODULES.find((entry) => entry.commands.includes('status'))?.commands ?? [];
    assert.deepEqual(await names('status', '--json', 'run-1'), [...runCommands].sort());
    assert.ok(runCommands.includes('run') && !runCommands.includes('validate'));
    const every = COMMAND_MODULES.flatMap((entry) => entry.commands).sort();
    assert.deepEqual(await names('--help'), every);
    assert.deepEqual(await names('help', 'validate'), every);
    assert.deepEqual(await names('no-such-command'), every);
    // --help lists them in the table's order, a run's commands first.
    const listed = (await buildProgram(['node', 'ftpipe', '--help'])).commands.map((c) => c.name());
    assert.deepEqual(listed, COMMAND_MODULES.flatMap((entry) => entry.commands));
    assert.equal(listed[0], 'run');
  });
});
