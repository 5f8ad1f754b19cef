// Regenerates src/tl/cocoon-api.gen.ts from the schema: `npm run tl:gen`.
import { writeFileSync } from 'node:fs';
import { COCOON_SCHEMA_SOURCE, COCOON_TYPES_FILE } from '../src/tl/cocoon.ts';
import { cocoonSchema } from '../src/tl/schema.ts';
import { generateTypes } from '../src/tl/typegen.ts';

writeFileSync(COCOON_TYPES_FILE, generateTypes(cocoonSchema(), COCOON_SCHEMA_SOURCE));
console.log(`wrote ${COCOON_TYPES_FILE.pathname}`);
