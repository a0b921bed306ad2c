package lenet.trainer.training;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/** The JVM's direct buffers: what tests of buffer reuse watch. */
final class DirectMemory {

  private DirectMemory() {}

  /** Bytes held by live direct buffers (those not yet freed by a garbage collection). */
  static long bytes() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(p -> p.getName().equals("direct"))
        .findFirst()
        .orElseThrow()
        .getTotalCapacity();
  }
}
