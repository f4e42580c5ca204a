/**
 * Finds credentials in URLs, so that the client and the workflow refuse them before they settle in history.
 * Case-insensitive and percent-decoded (`%73ig=` is `sig=`, also when encoded twice); covers userinfo
 * (`user:password@`), SAS signatures (`sig`), SAS permission sets without a signature (`se` with `sp`), and
 * token/key-like parameters in the query or the fragment. Workflow-safe: the WHATWG URL parser only.
 */

/** Parameter names (lower-cased, without `-`/`_`) that carry a credential. */
const SECRET_NAME = /(sig|signature|token|key|secret|password|passwd|pwd|credential|credentials|auth|authorization|sessionid)$/;

function decodeFully(text: string): string {
  let current = text;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current.replace(/\+/g, ' '));
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

function parameterNames(part: string): string[] {
  return part
    .replace(/^[?#]/, '')
    .split('&')
    .filter((pair) => pair.length > 0)
    .map((pair) => decodeFully(pair.split('=')[0] ?? '').trim().toLowerCase());
}

/** Why `text` is a URL carrying a credential, or undefined. Not a URL at all: undefined. */
export function urlCredential(text: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())) return undefined;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.username || url.password) return 'the URL carries a user name or password (user:password@)';
  const names = [...parameterNames(url.search), ...parameterNames(url.hash)];
  const compact = names.map((name) => name.replace(/[-_.\s]/g, ''));
  if (compact.includes('sig')) return 'the URL carries a SAS signature (sig=)';
  if (compact.includes('se') && compact.includes('sp')) return 'the URL carries a SAS token (se= and sp=)';
  const secret = names.find((name, i) => SECRET_NAME.test(compact[i]!));
  if (secret !== undefined) return `the URL carries a credential-like parameter (${secret.slice(0, 40)}=)`;
  return undefined;
}

export const CREDENTIAL_ADVICE =
  'a credential in a URL would be kept in workflow history; give the Azure OpenAI resource\'s managed identity read access to the blob and pass the URL without its token';
