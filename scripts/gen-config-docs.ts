// Rewrites the README's configuration reference from the config schema (src/cli/config.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../src/cli/config.ts';

const file = new URL('../README.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const start = '<!-- config:start -->';
const end = '<!-- config:end -->';
const i = text.indexOf(start);
const j = text.indexOf(end);
if (i < 0 || j < i) throw new Error('README.md has no config markers');
writeFileSync(file, `${text.slice(0, i + start.length)}\n${configReference()}${text.slice(j)}`);
