package io.backflow.source;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * What a MiniCluster run of a {@link WarehouseSource} emitted, as comparable tuples
 * (split, end marker?, position, values joined by '|').
 */
final class Collected {
    final List<Tuple4<String, Boolean, String, String>> records;

    private Collected(List<Tuple4<String, Boolean, String, String>> records) {
        this.records = records;
    }

    static Collected run(WarehouseSource source, int parallelism) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        env.getConfig().enableObjectReuse();
        List<Tuple4<String, Boolean, String, String>> out = new ArrayList<>();
        try (CloseableIterator<Tuple4<String, Boolean, String, String>> it = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "warehouse")
                .map(new ToTuple())
                .executeAndCollect("warehouse-source-test")) {
            it.forEachRemaining(out::add);
        }
        return new Collected(out);
    }

    /** Rows only (no end markers). */
    List<Tuple4<String, Boolean, String, String>> rows() {
        List<Tuple4<String, Boolean, String, String>> rows = new ArrayList<>();
        for (Tuple4<String, Boolean, String, String> r : records) {
            if (!r.f1) {
                rows.add(r);
            }
        }
        return rows;
    }

    /** The first value of every row, in emission order. */
    List<String> firstValues() {
        List<String> out = new ArrayList<>();
        for (Tuple4<String, Boolean, String, String> r : rows()) {
            out.add(r.f3.split("\\|", -1)[0]);
        }
        return out;
    }

    List<String> positions() {
        List<String> out = new ArrayList<>();
        for (Tuple4<String, Boolean, String, String> r : rows()) {
            out.add(r.f2);
        }
        return out;
    }

    /** End markers per split id. */
    Map<String, Integer> splitEnds() {
        Map<String, Integer> out = new HashMap<>();
        for (Tuple4<String, Boolean, String, String> r : records) {
            if (r.f1) {
                out.merge(r.f0, 1, Integer::sum);
            }
        }
        return out;
    }

    /** The end marker's position of a split. */
    String endPosition(String splitId) {
        for (Tuple4<String, Boolean, String, String> r : records) {
            if (r.f1 && r.f0.equals(splitId)) {
                return r.f2;
            }
        }
        throw new AssertionError("no end marker for " + splitId);
    }

    Set<String> splitIds() {
        Set<String> out = new HashSet<>();
        for (Tuple4<String, Boolean, String, String> r : records) {
            out.add(r.f0);
        }
        return out;
    }

    static final class ToTuple implements MapFunction<SourceRow, Tuple4<String, Boolean, String, String>> {
        @Override
        public Tuple4<String, Boolean, String, String> map(SourceRow row) {
            StringBuilder values = new StringBuilder();
            for (int i = 0; i < row.values().length; i++) {
                if (i > 0) {
                    values.append('|');
                }
                values.append(row.values()[i]);
            }
            return Tuple4.of(row.splitId(), row.isSplitEnd(), row.position(), values.toString());
        }
    }
}
