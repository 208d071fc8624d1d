package weir.bench.flink;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource;

/**
 * Generator counts 0 .. N-1 split like Weir's nexmark source: split k of `splits` (= the source
 * parallelism) owns [floor(k*N/splits), floor((k+1)*N/splits)), emitted in order.
 */
final class SequenceSource extends NumberSequenceSource {
    private static final long serialVersionUID = 1L;

    SequenceSource(long events) {
        super(0, events - 1);
    }

    @Override
    protected List<NumberSequenceSplit> splitNumberRange(long from, long to, int numSplits) {
        long total = to - from + 1;
        List<NumberSequenceSplit> splits = new ArrayList<>(numSplits);
        for (int k = 0; k < numSplits; k++) {
            long lo = from + Math.floorDiv(k * total, numSplits);
            long hi = from + Math.floorDiv((k + 1) * total, numSplits); // exclusive
            if (lo < hi) splits.add(new NumberSequenceSplit(String.valueOf(k), lo, hi - 1));
        }
        return splits;
    }
}
