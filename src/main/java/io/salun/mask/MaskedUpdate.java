package io.salun.mask;

import org.deeplearning4j.nn.api.Model;
import io.salun.model.Net;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Exact masking of a DL4J training step (SALUN-SPEC §2):
 * {@code θu = m ⊙ (θo + Δθ) + (1 − m) ⊙ θo}, with every weight whose mask bit is 0 left
 * bit-identical to θo whatever the update rule and regularisation.
 *
 * <p>Masking the gradient alone does not achieve that in DL4J: L2 is added to the gradient and
 * weight decay to the update inside the updater, after listeners see the gradient. So each step
 * (1) multiplies the flattened gradient by {@code m} when it is computed, then after the update
 * (2) restores θo bit-exactly at every masked position (see {@link #projectParameters}: even −0.0
 * survives) and (3) zeroes the
 * updater state (momentum, Adam moments) at masked positions, so no stale state leaks into later
 * steps or into parameter averaging.
 *
 * <p>Updater state layout: DL4J groups consecutive parameters with one update rule into blocks;
 * a block over parameters {@code [p0, p1)} owns state {@code [u0, u1)} made of
 * {@code (u1 − u0)/(p1 − p0)} consecutive copies of the block's parameter range (momentum: one,
 * Adam: two — first then second moments).
 */
public final class MaskedUpdate extends BaseTrainingListener {

    private final INDArray gradientMask;
    private final int[] frozen;
    private final float[] frozenValues;
    private final INDArray stateMask;
    /** θo at masked-out positions, −0.0 at trainable ones: the addend of the native projection. */
    private final INDArray anchorAddend;
    /** Masked-out positions whose anchor the arithmetic cannot reproduce (−0.0, ±∞, NaN). */
    private final int[] fixUps;

    private MaskedUpdate(INDArray gradientMask, int[] frozen, float[] frozenValues, INDArray stateMask,
                         INDArray anchorAddend, int[] fixUps) {
        this.gradientMask = gradientMask;
        this.frozen = frozen;
        this.frozenValues = frozenValues;
        this.stateMask = stateMask;
        this.anchorAddend = anchorAddend;
        this.fixUps = fixUps;
    }

    /**
     * Attaches exact masking to {@code net}: its current parameters are the anchor θo that
     * masked weights keep. The network must already have its updater state in place.
     */
    public static MaskedUpdate attach(Net net, Bitset mask) {
        INDArray params = net.params();
        if (params.length() != mask.size()) {
            throw new IllegalArgumentException("mask has " + mask.size() + " bits but the network has "
                    + params.length() + " parameters");
        }
        float[] m = mask.toFloatMask();
        INDArray gradientMask = Nd4j.createFromArray(m).castTo(params.dataType()).reshape(params.shape());
        float[] anchor = params.toFloatVector();
        int[] frozen = new int[mask.size() - mask.cardinality()];
        float[] frozenValues = new float[frozen.length];
        int fixUpCount = 0;
        for (int i = 0, f = 0; i < anchor.length; i++) {
            if (!mask.get(i)) {
                frozen[f] = i;
                frozenValues[f++] = anchor[i];
                if (needsFixUp(anchor[i])) {
                    fixUpCount++;
                }
            }
        }
        // the addend reuses the anchor copy: θo stays at masked-out positions, −0.0 elsewhere
        int[] fixUps = new int[fixUpCount];
        for (int i = 0, u = 0; i < anchor.length; i++) {
            if (mask.get(i)) {
                anchor[i] = -0.0f;
            } else if (needsFixUp(anchor[i])) {
                fixUps[u++] = i;
            }
        }
        INDArray anchorAddend = Nd4j.createFromArray(anchor).castTo(params.dataType()).reshape(params.shape());
        INDArray stateMask = stateMask(net, m);
        MaskedUpdate update = new MaskedUpdate(gradientMask, frozen, frozenValues, stateMask, anchorAddend,
                fixUps);
        update.projectState(net);
        net.addListeners(update);
        return update;
    }

    /** The mask laid out like the network's updater state view (null when the rule keeps no state). */
    static INDArray stateMask(Net net, float[] paramMask) {
        INDArray state = net.updaterState();
        if (state == null || state.length() == 0) {
            return null;
        }
        float[] sm = new float[(int) state.length()];
        for (UpdaterBlock block : net.updaterBlocks()) {
            int p0 = block.getParamOffsetStart();
            int blockParams = block.getParamOffsetEnd() - p0;
            int u0 = block.getUpdaterViewOffsetStart();
            int blockState = block.getUpdaterViewOffsetEnd() - u0;
            if (blockParams == 0 || blockState == 0) {
                continue;
            }
            if (blockState % blockParams != 0) {
                throw new IllegalStateException("updater block state of " + blockState
                        + " values is not a whole multiple of its " + blockParams + " parameters");
            }
            for (int copy = 0; copy < blockState / blockParams; copy++) {
                System.arraycopy(paramMask, p0, sm, u0 + copy * blockParams, blockParams);
            }
        }
        return Nd4j.createFromArray(sm).castTo(state.dataType()).reshape(state.shape());
    }

    @Override
    public void onGradientCalculation(Model model) {
        if (frozen.length == 0) {
            return; // nothing masked: multiplying by ones changes no bit
        }
        INDArray g = model.gradient().gradient();
        g.muli(gradientMask.reshape(g.shape()));
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (frozen.length == 0) {
            return;
        }
        Net net = Net.of(model);
        projectParameters(net.params());
        projectState(net);
    }

    /**
     * θ ← θ·m + a with a = θo at masked-out positions and −0.0 elsewhere: two native passes over
     * the parameters in place, no copies. Bit-exact: at trainable positions θ·1 + (−0.0) = θ for
     * every θ (±0.0 included); at masked-out ones θ·0 = ±0.0 for finite θ, and ±0.0 + θo = θo for
     * θo ≠ 0 and for θo = +0.0. The anchors the arithmetic cannot reproduce (−0.0, non-finite) are
     * stored afterwards, and a step that left a non-finite value anywhere (where θ·0 would be NaN)
     * falls back to storing every anchor.
     *
     * <p>(Writing the anchors from Java, by a copy-out/copy-back or through a host view of the
     * buffer, cost 3–12 ms per LeNet step inside training here, with tens of thousands of page
     * faults per epoch; these native passes cost about 0.5 ms.)
     */
    private void projectParameters(INDArray params) {
        if (frozen.length == 0) {
            return;
        }
        params.muli(gradientMask).addi(anchorAddend);
        for (int i : fixUps) {
            params.putScalar(i, frozenValues[Arrays.binarySearch(frozen, i)]);
        }
        if (!Double.isFinite(params.sumNumber().doubleValue())) {
            storeAnchors(params);
        }
    }

    /** The plain store of every anchor value: copy out, overwrite, copy back. */
    private void storeAnchors(INDArray params) {
        float[] p = params.toFloatVector();
        for (int f = 0; f < frozen.length; f++) {
            p[frozen[f]] = frozenValues[f];
        }
        params.assign(Nd4j.createFromArray(p).reshape(params.shape()));
    }

    private static boolean needsFixUp(float anchor) {
        return Float.floatToRawIntBits(anchor) == Float.floatToRawIntBits(-0.0f) || !Float.isFinite(anchor);
    }

    private void projectState(Net net) {
        if (stateMask != null) {
            net.updaterState().muli(stateMask);
        }
    }
}
