#!/usr/bin/env node
// Node 22.1+ can keep compiled code between runs (a no-op on Node 20, which lacks it).
import module from 'node:module';
module.enableCompileCache?.();
await import('../dist/bundle/cli.js');
