/** The human-readable form of a validation report, as `ftpipe validate` prints it. */
import type { Issue } from './issues';
import type { ValidationReport } from './validate';

const number = (n: number): string => n.toLocaleString('en-US');
const count = (n: number, noun: string): string => `${number(n)} ${noun}${n === 1 ? '' : 's'}`;

/** One issue as `file:line: path: reason [CODE]`. */
export function formatIssue(issue: Issue): string {
  const where = issue.line === null ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path ? `${where}: ${issue.path}: ${issue.message} [${issue.code}]` : `${where}: ${issue.message} [${issue.code}]`;
}

function issueBlock(title: string, shown: Issue[], total: number): string[] {
  if (total === 0) return [];
  const lines = [`${title} (${number(total)}):`, ...shown.map((issue) => `  ${formatIssue(issue)}`)];
  if (total > shown.length) lines.push(`  ... and ${number(total - shown.length)} more`);
  return lines;
}

export function formatSummary(report: ValidationReport): string {
  const lines: string[] = [`${report.valid ? 'VALID' : 'INVALID'}: ${report.method} fine-tuning of ${report.model}`];
  for (const file of report.files) {
    const t = file.tokens;
    lines.push(
      `${file.role} ${file.path}: ${count(file.examples, 'example')}, ${count(file.bytes, 'byte')}, ${count(file.errorCount, 'error')}, ${count(file.warningCount, 'warning')}`,
      `  upload: ${number(file.uploadBytes)} bytes${file.hasBom ? '' : ' (BOM added)'}, sha256 ${file.uploadSha256}`,
    );
    if (t.countedExamples > 0) {
      lines.push(
        `  tokens: ${number(t.totalTokens)} total, ${number(t.trainableTokens)} trainable; per example min ${number(t.min ?? 0)}, median ${number(t.median ?? 0)}, p90 ${number(t.p90 ?? 0)}, max ${number(t.max ?? 0)}` +
          (t.imageParts > 0 ? `; ${number(t.imageParts)} image parts (billed by size, not counted)` : ''),
      );
    }
  }
  const epochs = `${count(report.epochs.count, 'epoch')} (${report.epochs.source === 'auto' ? 'automatic rule' : 'n_epochs'})`;
  lines.push(report.billedTokensEstimate === null
    ? `billing: reinforcement fine-tuning is billed by training time, not tokens; ${epochs}`
    : `billed training tokens (estimate): ${number(report.billedTokensEstimate)} for ${epochs}`);
  lines.push(...issueBlock('errors', report.errors, report.errorCount), ...issueBlock('warnings', report.warnings, report.warningCount));
  return lines.join('\n');
}
