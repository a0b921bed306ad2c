package lenet.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Direct buffers of floats kept for reuse, for arrays that libtorch computes on in place.
 *
 * <p>Why: DJL copies a Java array into a new direct buffer and the array computes on that buffer's
 * memory, which only a garbage collection frees. A process that makes little garbage (the trainer)
 * then grows its native heap by every input it ever made until a collection runs, and each new
 * buffer's pages are faulted in afresh. An array made from one of these buffers with {@code
 * NDManager.create(ByteBuffer, Shape, DataType)} shares its memory on the CPU (on a GPU it is a
 * copy): hand the buffer back only once that array is closed.
 */
public final class HostBuffers {

  private final ConcurrentLinkedQueue<ByteBuffer> free = new ConcurrentLinkedQueue<>();

  /** A new direct buffer for {@code n} floats in the platform's byte order (as libtorch reads). */
  public static ByteBuffer floats(int n) {
    return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder());
  }

  /**
   * A buffer with room for {@code n} floats, its limit set to them: one handed back earlier when it
   * is large enough, else a new one. Safe for concurrent callers: each gets its own.
   */
  public ByteBuffer take(int n) {
    ByteBuffer b = free.poll();
    if (b == null || b.capacity() < n * Float.BYTES) {
      b = floats(n); // a smaller one is dropped: the calls' sizes only grow it to their largest
    }
    b.clear().limit(n * Float.BYTES);
    return b;
  }

  /** Hands back a buffer from {@link #take} once no array reads it any more. */
  public void give(ByteBuffer b) {
    free.offer(b);
  }
}
