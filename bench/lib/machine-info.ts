/** What machine a benchmark ran on, printed with its figures (they are only comparable on the same machine). */
import os from 'node:os';

/** Machine facts. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  /** Total memory, MiB. */
  memoryMiB: number;
  os: string;
  node: string;
  v8: string;
}

/** Facts of the current machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
  };
}

/** One line: "AMD EPYC (2 cores, 7.8 GiB) · Linux 6.1 x64 · Node v20.20.2". */
export function formatMachine(m: MachineInfo): string {
  return `${m.cpu} (${m.cores} cores, ${(m.memoryMiB / 1024).toFixed(1)} GiB) · ${m.os} · Node ${m.node} (V8 ${m.v8})`;
}
