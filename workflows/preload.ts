// Evaluated once per worker thread and shared by every run (worker WORKFLOW_PRELOAD_MODULES):
// zod. Its own set-up was three quarters of starting a workflow once the schemas were built on
// first use (domain/lazySchema.ts). The SDK freezes what it shares, and zod finishes setting
// itself up at its first schema: its default locale and memoizer go into its global config, and
// at the first object schema whether code generation is allowed. So a first schema is built and
// used here, before the freeze; without it every run's input check fails with "Cannot add
// property localeError, object is not extensible" (test/unit/workflows/badInput.test.ts).
import { z } from 'zod';

z.strictObject({ preload: z.string() }).parse({ preload: 'zod' });
