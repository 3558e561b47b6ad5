// Evaluated once per worker thread and shared by every run (worker WORKFLOW_PRELOAD_MODULES):
// zod. Its own set-up was three quarters of starting a workflow once the schemas were built on
// first use (domain/lazySchema.ts). The SDK freezes what it shares, so whatever zod sets lazily on
// its own module objects is set here first: whether code generation is allowed (asked by the
// first object schema), which a frozen zod could no longer record.
import { z } from 'zod';

z.strictObject({ preload: z.string() }).parse({ preload: 'zod' });

export { z };
