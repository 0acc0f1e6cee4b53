// csi_sidecar_operations_seconds: the histogram every kubernetes-csi sidecar
// exposes, with upstream's name, help, labels and buckets, so dashboards and
// alerts written for upstream work unchanged.

import { Histogram, Registry } from './prom-client-parts';

export const UNKNOWN_DRIVER_NAME = 'unknown-driver';

const OPERATION_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 25, 50, 120, 300, 600];

export class CsiOperationsHistogram {
  private readonly histogram: Histogram<'driver_name' | 'grpc_status_code' | 'method_name'>;
  /** Label for calls made before GetPluginInfo has answered. */
  private driverName = UNKNOWN_DRIVER_NAME;

  constructor(registry: Registry) {
    this.histogram = new Histogram({
      name: 'csi_sidecar_operations_seconds',
      help: '[ALPHA] Container Storage Interface operation duration with gRPC error code status total',
      // Go's client orders labels by name; keep that order in the exposition.
      labelNames: ['driver_name', 'grpc_status_code', 'method_name'],
      buckets: OPERATION_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  setDriverName(name: string): void {
    this.driverName = name;
  }

  observe(method: string, statusName: string, seconds: number): void {
    this.histogram.observe({ driver_name: this.driverName, grpc_status_code: statusName, method_name: method }, seconds);
  }
}
