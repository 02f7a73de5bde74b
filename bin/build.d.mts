// Types of build.mjs, for the TypeScript that calls it (tests, benchmarks).
export declare const ROOT: string;
export declare const DIST: string;
export declare function sourceFingerprint(): string;
export declare function freshBuild(options?: { quiet?: boolean }): boolean;
export declare function preparePgliteTemplate(): Promise<void>;
