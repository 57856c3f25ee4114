// Vite builds index.html + hashed assets; the orderflow binary embeds and serves them.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    // Modern browsers only: no module-preload polyfill, no legacy chunks.
    modulePreload: { polyfill: false },
    target: 'es2022',
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
