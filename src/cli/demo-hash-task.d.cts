/** Hashes a megabyte `rounds` times with SHA-256; returns the last digest (hex). */
export declare function hashRounds(rounds: number): string;
/** {@link hashRounds} as a thread task: `ctx.input` is the number of rounds. */
export declare function hashTask(ctx: { readonly input: unknown }): string;
