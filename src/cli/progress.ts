// Progress for long work (loading a model, deploying contracts, waiting for the chain): a spinner with the elapsed
// time on a terminal, one line when done; plain lines when the output is not a terminal (logs, scripts).

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export const colour = {
  enabled: (stream: NodeJS.WriteStream = process.stderr) => stream.isTTY === true && !process.env.NO_COLOR,
  green: (s: string) => (colour.enabled() ? `\x1b[32m${s}\x1b[0m` : s),
  red: (s: string) => (colour.enabled() ? `\x1b[31m${s}\x1b[0m` : s),
  dim: (s: string) => (colour.enabled() ? `\x1b[2m${s}\x1b[0m` : s),
};

/**
 * Runs `work` while showing `label`; resolves or rejects with it.
 *
 * @example
 * const engine = await step('loading the model', openEngine({ model: 'embedded' }));
 */
export async function step<T>(
  label: string,
  work: Promise<T>,
  stream: NodeJS.WriteStream = process.stderr,
): Promise<T> {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const tty = stream.isTTY === true;
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    let i = 0;
    timer = setInterval(() => {
      stream.write(`\r${FRAMES[i++ % FRAMES.length]} ${label} ${colour.dim(`${secs()} s`)}\x1b[K`);
    }, 80);
  } else stream.write(`… ${label}\n`);
  try {
    const v = await work;
    if (tty) stream.write(`\r${colour.green('✔')} ${label} ${colour.dim(`${secs()} s`)}\x1b[K\n`);
    else stream.write(`  done in ${secs()} s\n`);
    return v;
  } catch (err) {
    if (tty) stream.write(`\r${colour.red('✖')} ${label}\x1b[K\n`);
    throw err;
  } finally {
    clearInterval(timer);
  }
}
