import { HttpEngine, type InferenceEngine } from '../openai/engine.ts';
import { EmbeddedEngine } from './embedded.ts';
import { resolveModel } from './models.ts';

export interface EngineChoice {
  /** `embedded` (the demo model), a GGUF path, or `hf:OWNER/REPO/FILE.gguf`. */
  model?: string;
  /** URL of an OpenAI-compatible engine instead of an in-process model. */
  backend?: string;
  apiKey?: string;
  threads?: number;
  parallel?: number;
  contextSize?: number;
  /** A GGUF whose tokenizer counts tokens when a backend reports no usage. */
  tokenizer?: string;
}

/**
 * Opens the engine a worker or `cocoon chat` runs on: an engine URL, or a GGUF model in-process.
 *
 * @example
 * const engine = await openEngine({ model: 'embedded' });
 */
export async function openEngine(c: EngineChoice): Promise<InferenceEngine> {
  if (c.backend) {
    const opts: ConstructorParameters<typeof HttpEngine>[0] = { url: c.backend };
    if (c.apiKey) opts.apiKey = c.apiKey;
    if (c.tokenizer) {
      const tok = await EmbeddedEngine.load({
        modelPath: (await resolveModel(c.tokenizer)).path,
        contextSize: 512,
      });
      opts.tokenizer = { count: (t: string) => tok.tokenize(t).length };
    }
    return new HttpEngine(opts);
  }
  const m = await resolveModel(c.model ?? 'embedded');
  const opts: Parameters<typeof EmbeddedEngine.load>[0] = { modelPath: m.path, modelName: m.name };
  if (c.threads !== undefined) opts.threads = c.threads;
  if (c.parallel !== undefined) opts.parallel = c.parallel;
  if (c.contextSize !== undefined) opts.contextSize = c.contextSize;
  return EmbeddedEngine.load(opts);
}
