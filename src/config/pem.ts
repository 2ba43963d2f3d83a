/** Reading PEM certificate files named by settings, once, with problems that name the variable and file. */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';

/** The certificates of a PEM file; a problem naming the variable and file when there are none or one is bad. */
export function readCertificates(variable: string, file: string, problems: string[]): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return [];
  }
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) problems.push(`${variable}: ${file} holds no PEM certificate`);
  for (const [i, pem] of certs.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      problems.push(`${variable}: certificate ${i + 1} in ${file} is not a valid X.509 certificate`);
    }
  }
  return certs.map((c) => `${c}\n`);
}
