/**
 * The fake server's `GET /resources`, shaped as the SDK's `Resources` type describes it: each
 * resource's raw capacity, its effective limit after oversubscription, what is allocated and
 * what is available. Builds that are running count as allocations of a builder VM each (Hypeman
 * runs every build in one), so a busy fake reports less room, as a real server does.
 */
export class FakeResources {
  cpus = 16;
  memoryBytes = 32 * 1024 ** 3;
  /** Taken by other tenants of the server: set it to make the fake look full. */
  allocatedCpus = 0;
  allocatedMemoryBytes = 0;
  /** One builder VM, as Hypeman sizes it by default. */
  readonly perBuild = { cpus: 2, memoryBytes: 2 * 1024 ** 3 };

  /** Sets how much of the server is free, in builds' worth of room. */
  freeFor(builds: number): void {
    this.allocatedCpus = Math.max(0, this.cpus - builds * this.perBuild.cpus);
    this.allocatedMemoryBytes = Math.max(0, this.memoryBytes - builds * this.perBuild.memoryBytes);
  }

  answer(runningBuilds: number): Record<string, unknown> {
    const cpu = status("cpu", this.cpus, this.allocatedCpus + runningBuilds * this.perBuild.cpus);
    const memory = status("memory", this.memoryBytes, this.allocatedMemoryBytes + runningBuilds * this.perBuild.memoryBytes);
    const disk = status("disk", 500 * 1024 ** 3, 0);
    const network = status("network", 1_250_000_000, 0);
    return { cpu, memory, disk, network, allocations: [], gpu: null };
  }
}

function status(type: string, capacity: number, allocated: number): Record<string, unknown> {
  return { type, capacity, effective_limit: capacity, oversub_ratio: 1, allocated, available: Math.max(0, capacity - allocated), source: "configured" };
}
