package io.salun.mask;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.controlflow.WhereNumpy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Exact masking of a DL4J training step (SALUN-SPEC §2):
 * {@code θu = m ⊙ (θo + Δθ) + (1 − m) ⊙ θo}, with every weight whose mask bit is 0 left
 * bit-identical to θo whatever the update rule and regularisation.
 *
 * <p>Masking the gradient alone does not achieve that in DL4J: L2 is added to the gradient and
 * weight decay to the update inside the updater, after listeners see the gradient. So each step
 * (1) multiplies the flattened gradient by {@code m} when it is computed, then after the update
 * (2) selects {@code θ ← where(m, θ, θo)} (a select, so even −0.0 survives) and (3) zeroes the
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
    private final INDArray keep;
    private final INDArray anchor;
    private final INDArray scratch;
    private final INDArray stateMask;

    private MaskedUpdate(INDArray gradientMask, INDArray keep, INDArray anchor, INDArray stateMask) {
        this.gradientMask = gradientMask;
        this.keep = keep;
        this.anchor = anchor;
        this.scratch = anchor.ulike();
        this.stateMask = stateMask;
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
        INDArray keep = Nd4j.createFromArray(mask.toBooleans()).reshape(params.shape());
        INDArray anchor = params.dup();
        INDArray stateMask = stateMask(net, m);
        MaskedUpdate update = new MaskedUpdate(gradientMask, keep, anchor, stateMask);
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
        INDArray g = model.gradient().gradient();
        g.muli(gradientMask.reshape(g.shape()));
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        MultiLayerNetwork net = (MultiLayerNetwork) model;
        projectParameters(net.params());
        projectState(net);
    }

    private void projectParameters(INDArray params) {
        Nd4j.exec(new WhereNumpy(new INDArray[] {keep, params, anchor}, new INDArray[] {scratch}));
        params.assign(scratch);
    }

    private void projectState(MultiLayerNetwork net) {
        if (stateMask != null) {
            net.getUpdater().getStateViewArray().muli(stateMask);
        }
    }
}
