// A container's memory cgroup as the kubelet reads it (cgroup v1 where the machine mounts it, else v2):
// usage, peak, working set (usage less inactive page cache), anonymous memory and OOM kills.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The memory cgroup files of the container whose init process is `pid` (cgroup v1, else v2). */
export function memoryCgroupOf(pid: number): { version: 1 | 2; dir: string } {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.map((line) => line.split(':')).find(([, controllers]) => controllers.split(',').includes('memory'));
  if (v1 && fs.existsSync('/sys/fs/cgroup/memory')) return { version: 1, dir: path.join('/sys/fs/cgroup/memory', v1[2]) };
  const v2 = lines.map((line) => line.split(':')).find(([id]) => id === '0');
  if (!v2) throw new Error(`no memory cgroup for pid ${pid}: ${lines.join(' | ')}`);
  return { version: 2, dir: path.join('/sys/fs/cgroup', v2[2]) };
}

export interface CgroupMemory {
  readonly limitBytes: number;
  /** The cgroup's peak usage since it was made: page cache included, so it may reach the limit (then cache is reclaimed). */
  readonly peakBytes: number;
  readonly usageBytes: number;
  /** What the kubelet reports and evicts on (container_memory_working_set_bytes): usage less inactive page cache. */
  readonly workingSetBytes: number;
  /** Anonymous memory (heap, stacks, buffers): what the cgroup cannot reclaim without swap. */
  readonly anonBytes: number;
  readonly pageCacheBytes: number;
  /** The kernel's OOM kills in this cgroup (memory.oom_control / memory.events). */
  readonly oomKills: number;
}

export function readCgroupMemory(cgroup: { version: 1 | 2; dir: string }): CgroupMemory {
  const read = (file: string) => fs.readFileSync(path.join(cgroup.dir, file), 'utf8').trim();
  const keyed = (file: string) => new Map(read(file).split('\n').map((line) => line.split(' ') as [string, string]));
  const stat = keyed('memory.stat');
  if (cgroup.version === 1) {
    const usageBytes = Number(read('memory.usage_in_bytes'));
    return {
      limitBytes: Number(read('memory.limit_in_bytes')),
      peakBytes: Number(read('memory.max_usage_in_bytes')),
      usageBytes,
      workingSetBytes: usageBytes - Number(stat.get('total_inactive_file')),
      anonBytes: Number(stat.get('total_rss')),
      pageCacheBytes: Number(stat.get('total_cache')),
      oomKills: Number(keyed('memory.oom_control').get('oom_kill') ?? 0),
    };
  }
  const usageBytes = Number(read('memory.current'));
  return {
    limitBytes: Number(read('memory.max')),
    peakBytes: Number(read('memory.peak')),
    usageBytes,
    workingSetBytes: usageBytes - Number(stat.get('inactive_file')),
    anonBytes: Number(stat.get('anon')),
    pageCacheBytes: Number(stat.get('file')),
    oomKills: Number(keyed('memory.events').get('oom_kill') ?? 0),
  };
}

/** Reads the cgroup every `intervalMs` until stopped; resolves with the highest working set and anon memory seen. */
export function sampleCgroupMemory(cgroup: { version: 1 | 2; dir: string }, intervalMs: number): { stop(): { workingSetBytes: number; anonBytes: number; samples: number } } {
  let workingSetBytes = 0;
  let anonBytes = 0;
  let samples = 0;
  const sample = () => {
    const now = readCgroupMemory(cgroup);
    workingSetBytes = Math.max(workingSetBytes, now.workingSetBytes);
    anonBytes = Math.max(anonBytes, now.anonBytes);
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { workingSetBytes, anonBytes, samples };
    },
  };
}
