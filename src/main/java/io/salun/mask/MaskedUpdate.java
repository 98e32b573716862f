package io.salun.mask;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/**
 * Exact masking of a DL4J training step (SALUN-SPEC §2):
 * {@code θu = m ⊙ (θo + Δθ) + (1 − m) ⊙ θo}, with every weight whose mask bit is 0 left
 * bit-identical to θo whatever the update rule and regularisation.
 *
 * <p>Masking the gradient alone does not achieve that in DL4J: L2 is added to the gradient and
 * weight decay to the update inside the updater, after listeners see the gradient. So each step
 * (1) multiplies the flattened gradient by {@code m} when it is computed, then after the update
 * (2) stores θo back into every masked position (a store, so even −0.0 survives) and (3) zeroes the
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
    /** Whether the parameters can be written in place through a host (NIO) view: ND4J's CPU backend. */
    private final boolean hostParameters;

    private MaskedUpdate(INDArray gradientMask, int[] frozen, float[] frozenValues, INDArray stateMask) {
        this.gradientMask = gradientMask;
        this.frozen = frozen;
        this.frozenValues = frozenValues;
        this.stateMask = stateMask;
        this.hostParameters = "CPU".equalsIgnoreCase(
                Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend"));
    }

    /**
     * Attaches exact masking to {@code net}: its current parameters are the anchor θo that
     * masked weights keep. The network must already have its updater state in place.
     */
    public static MaskedUpdate attach(MultiLayerNetwork net, Bitset mask) {
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
        for (int i = 0, f = 0; i < anchor.length; i++) {
            if (!mask.get(i)) {
                frozen[f] = i;
                frozenValues[f++] = anchor[i];
            }
        }
        INDArray stateMask = stateMask(net, m);
        MaskedUpdate update = new MaskedUpdate(gradientMask, frozen, frozenValues, stateMask);
        update.projectState(net);
        net.addListeners(update);
        return update;
    }

    /** The mask laid out like the network's updater state view (null when the rule keeps no state). */
    static INDArray stateMask(MultiLayerNetwork net, float[] paramMask) {
        INDArray state = net.getUpdater(true).getStateViewArray();
        if (state == null || state.length() == 0) {
            return null;
        }
        float[] sm = new float[(int) state.length()];
        if (!(net.getUpdater() instanceof BaseMultiLayerUpdater<?> updater)) {
            throw new IllegalStateException("unsupported updater " + net.getUpdater().getClass());
        }
        for (UpdaterBlock block : updater.getUpdaterBlocks()) {
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
        MultiLayerNetwork net = (MultiLayerNetwork) model;
        projectParameters(net.params());
        projectState(net);
    }

    private void projectParameters(INDArray params) {
        if (frozen.length == 0) {
            return;
        }
        // a plain store keeps the anchor's exact bits (−0.0 included), which arithmetic masking
        // (θ·m + θo·(1−m)) would not
        FloatBuffer host = hostView(params);
        if (host != null) {
            // in place: no copy of the N parameters, no allocation (about 10× cheaper than below)
            for (int f = 0; f < frozen.length; f++) {
                host.put(frozen[f], frozenValues[f]);
            }
            return;
        }
        // other backends or layouts: copy out, overwrite, copy back
        float[] p = params.toFloatVector();
        for (int f = 0; f < frozen.length; f++) {
            p[frozen[f]] = frozenValues[f];
        }
        params.assign(Nd4j.createFromArray(p).reshape(params.shape()));
    }

    /**
     * The parameters' host memory as a float buffer indexed like the flat parameter vector, when
     * they are contiguous floats at the start of their buffer on the CPU backend (a network's
     * flattened parameters are); null otherwise.
     */
    private FloatBuffer hostView(INDArray params) {
        if (!hostParameters || params.dataType() != DataType.FLOAT || params.isView()
                || params.data().offset() != 0 || params.elementWiseStride() != 1) {
            return null;
        }
        FloatBuffer buffer = params.data().asNioFloat();
        return buffer.capacity() >= params.length() ? buffer : null;
    }

    private void projectState(MultiLayerNetwork net) {
        if (stateMask != null) {
            net.getUpdater().getStateViewArray().muli(stateMask);
        }
    }
}
