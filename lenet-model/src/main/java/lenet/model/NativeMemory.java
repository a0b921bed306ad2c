package lenet.model;

import com.sun.jna.Function;
import com.sun.jna.Platform;

/**
 * Keeps the native memory libtorch frees for its next tensors instead of handing it back to the
 * kernel. With glibc's defaults every tensor over 128 KB (a batch's activations and their
 * gradients: ~2.4 MB for the first convolution's output at batch 128) is its own {@code mmap},
 * unmapped when the tensor is closed, and the heap above 128 KB of free space is trimmed: every
 * training step then faults in and zeroes its memory afresh. Measured on 2 cores (BENCHMARKS.md,
 * "Training speed"): an epoch of 48,000 images took 13-18 s, 11-18 s of it in the kernel; with both
 * thresholds raised, 6.6-7.6 s. Raising only one of the two changed nothing.
 *
 * <p>Sets glibc's {@code M_MMAP_THRESHOLD} to its maximum (32 MB on 64-bit, so larger blocks are
 * still mapped apart and returned) and {@code M_TRIM_THRESHOLD} to 1 GB, process-wide, once. It
 * also sets {@code M_TOP_PAD} to 256 MB: a thread other than the process's first allocates from an
 * arena of 64 MB heaps, and glibc unmaps such a heap whenever all of it is free, whatever the trim
 * threshold, unless the pad is larger than a heap. The training thread of a service is such a
 * thread; with the pad its heaps stay mapped (4 runs of 3 epochs each way, alternating, commit
 * {@code b81faf2}: every epoch 4.7-5.4 s with it, 4.8-6.0 s and one of 8.5 s without). The pad also
 * makes the main heap grow in steps of 256 MB of address space, which take memory only once used.
 * The process's resident memory then stays at its high-water mark, which it reaches within the
 * first steps anyway. A no-op off Linux, or with a C library other than glibc (where the call
 * fails).
 */
public final class NativeMemory {

  /** glibc's malloc.h: {@code M_TRIM_THRESHOLD}. */
  private static final int M_TRIM_THRESHOLD = -1;

  /** glibc's malloc.h: {@code M_TOP_PAD}. */
  private static final int M_TOP_PAD = -2;

  /** glibc's malloc.h: {@code M_MMAP_THRESHOLD}. */
  private static final int M_MMAP_THRESHOLD = -3;

  /** glibc's largest mmap threshold on 64-bit ({@code HEAP_MAX_SIZE / 2}). */
  static final int MMAP_THRESHOLD = 32 * 1024 * 1024;

  static final int TRIM_THRESHOLD = 1024 * 1024 * 1024;

  /** More than a non-main arena's heap (64 MB), so that none is unmapped when it empties. */
  static final int TOP_PAD = 256 * 1024 * 1024;

  private static Boolean applied;

  private NativeMemory() {}

  /**
   * Applies the thresholds once per process; later calls return the first's result.
   *
   * @return whether glibc took all three settings (false off Linux or without glibc)
   */
  public static synchronized boolean keepFreedMemory() {
    if (applied == null) {
      applied = apply();
    }
    return applied;
  }

  private static boolean apply() {
    if (!Platform.isLinux()) {
      return false;
    }
    try {
      Function mallopt = Function.getFunction("c", "mallopt");
      // mallopt returns 1 on success, 0 on error.
      boolean mmap = mallopt.invokeInt(new Object[] {M_MMAP_THRESHOLD, MMAP_THRESHOLD}) == 1;
      boolean trim = mallopt.invokeInt(new Object[] {M_TRIM_THRESHOLD, TRIM_THRESHOLD}) == 1;
      boolean pad = mallopt.invokeInt(new Object[] {M_TOP_PAD, TOP_PAD}) == 1;
      return mmap && trim && pad;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return false; // musl and others have no mallopt
    }
  }
}
