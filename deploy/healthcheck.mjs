// Docker HEALTHCHECK: GET /health on this container's PORT, over HTTPS when the process serves
// TLS itself (TLS_CERT_FILE; loopback, so the certificate's name is not checked). Exit 0 when UP.
import http from 'node:http';
import https from 'node:https';

const tls = Boolean(process.env.TLS_CERT_FILE);
const port = Number(process.env.PORT || 8080);
const client = tls ? https : http;
const req = client.get({ host: '127.0.0.1', port, path: '/health', timeout: 4000, ...(tls && { rejectUnauthorized: false }) }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
