/**
 * Vite config of the web app. `npm run build` writes it to dist/web, which the server serves;
 * `npm run dev:web` starts Vite's dev server (hot reload) and proxies the API to `npm run dev`.
 */
import fs from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.resolve(import.meta.dirname, '..');
const editor = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@heartexlabs/label-studio/package.json'), 'utf8')) as { version: string };
/** Where `npm run dev` listens (the API the dev server proxies to). */
const apiTarget = process.env.LABELVAULT_DEV_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  define: { __EDITOR_VERSION__: JSON.stringify(editor.version) },
  build: { outDir: path.join(root, 'dist/web'), emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: {
    host: '127.0.0.1',
    port: 5173,
    // Everything the server answers outside the app's own files: the API, uploads, the editor bundle.
    proxy: Object.fromEntries(['/api', '/data', '/static', '/user/setup', '/health'].map((p) => [p, { target: apiTarget, changeOrigin: false }])),
  },
});
