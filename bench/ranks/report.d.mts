// Types of bench/ranks/report.mjs, for bench/ranks/lock.ts.
export declare function report(obj: { rank: number; [key: string]: unknown }): void;
export interface WaitCost {
  wallMs: number;
  cpuMs: number;
  cpuShare: number;
  delayP99Ms: number;
  delayMaxMs: number;
}
export declare function waitCost(done: () => Promise<unknown>): Promise<WaitCost>;
export declare function mulberry32(seed: number): () => number;
export declare const writeShare: Record<string, number>;
export declare function chooser(workload: string, seed: number): () => boolean;
export declare function flags(argv?: string[]): Record<string, string>;
