package lenet.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class HostBuffersTest {

  @Test
  void handsBackTheSameBufferWhenItIsLargeEnoughAndANewOneWhenNot() {
    HostBuffers buffers = new HostBuffers();
    ByteBuffer first = buffers.take(100);
    assertThat(first.isDirect()).isTrue();
    assertThat(first.order()).isEqualTo(ByteOrder.nativeOrder());
    assertThat(first.position()).isZero();
    assertThat(first.limit()).isEqualTo(400);
    first.putFloat(1f);
    buffers.give(first);

    ByteBuffer again = buffers.take(10);
    assertThat(again).isSameAs(first);
    assertThat(again.position()).isZero();
    assertThat(again.limit()).isEqualTo(40);

    ByteBuffer concurrent = buffers.take(10); // the first is out: a second one
    assertThat(concurrent).isNotSameAs(first);
    buffers.give(again);
    buffers.give(concurrent);

    ByteBuffer larger = buffers.take(1000);
    assertThat(larger).isNotSameAs(first).isNotSameAs(concurrent);
    assertThat(larger.limit()).isEqualTo(4000);
  }
}
