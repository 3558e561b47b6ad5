#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step to forget.
require('tsx/cjs/api').register();
require('../cli/main.ts');
