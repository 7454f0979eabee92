package io.backflow.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class PositionTest {
    @Test
    void typedValuesEncodeToTheCodecsTextOnceAskedAndKeepIt() {
        Object[] values = {LocalDate.of(2024, 2, 29), 42L, "Zoë", new BigDecimal("1.50"), null};
        Position p = Position.of(values);

        String text = p.encoded();
        assertThat(text).isEqualTo(PositionCodec.encode(values));
        assertThat(p.encoded()).isSameAs(text);
        assertThat(PositionCodec.decode(text)).containsExactly(values);
    }

    @Test
    void aPositionFromItsTextGivesTheSameTextBack() {
        String text = PositionCodec.encode(new Object[] {7L});
        assertThat(Position.ofEncoded(text).encoded()).isSameAs(text);
        assertThat(Position.encoded(null)).isNull();
        assertThat(Position.of(null)).isNull();
        assertThat(Position.ofEncoded(null)).isNull();
    }
}
