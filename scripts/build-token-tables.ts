/**
 * Writes the tokenizer's prebuilt tables (src/dataset/table-file.ts) to dist/token-tables/: each encoding's ranks
 * and the pre-tokenizer's character classes. `npm run build` runs it after compiling.
 */
import { TOKEN_ENCODINGS } from '../src/catalog/models';
import { writeEncodingTable } from '../src/dataset/bpe';
import { writeClassTable } from '../src/dataset/pretokenize';
import { tokenTablesDir } from '../src/dataset/table-file';

for (const encoding of TOKEN_ENCODINGS) writeEncodingTable(encoding);
writeClassTable();
console.log(`token tables: ${tokenTablesDir()} (${TOKEN_ENCODINGS.join(', ')}, pre-tokenizer classes)`);
