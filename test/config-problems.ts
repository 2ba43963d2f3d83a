/** What loadConfig refuses in `env` (each problem names its variable); [] when it loads. */
import { ConfigError, loadConfig } from '../src/config/config.js';

export function configProblems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}
