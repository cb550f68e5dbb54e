// Starts the console's WebAssembly. A file, not an inline script, so that the server's
// Content-Security-Policy can forbid inline scripts (script-src 'self' 'wasm-unsafe-eval').
import init from '/console/pkg/nuvem_console.js';
init({ module_or_path: '/console/pkg/nuvem_console_bg.wasm' });
