package io.salun.model;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Collection;
import java.util.Map;

/**
 * BatchNorm in inference mode for the saliency pass (SALUN-SPEC §1 step 1, §2a): the layer
 * normalises with its running statistics, in the forward pass and in the backward pass alike,
 * even when DL4J computes a gradient (which it always does in training mode). The layer is then
 * the affine map {@code y = γ·(x − μ)/σ + β} per channel, with {@code σ = √(var + ε)} as DL4J's
 * own inference computes it ({@code var} the stored running variance; with {@code useLogStd},
 * {@code var = 10^(2·log10stdev)}), so
 * {@code ∂L/∂γ = Σ ∂L/∂y · (x − μ)/σ}, {@code ∂L/∂β = Σ ∂L/∂y}, {@code ∂L/∂x = ∂L/∂y · γ/σ}; the
 * running statistics get a zero gradient (they are never ranked).
 *
 * <p>Same configuration fields and parameter table as DL4J's BatchNormalization, so a network's
 * JSON switches to it by its class name and the flat parameter vector keeps its layout.
 */
public class InferenceBatchNormalization extends BatchNormalization {
    private static final long serialVersionUID = 1L;

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners, int layerIndex,
                                                       INDArray layerParamsView, boolean initializeParams,
                                                       DataType networkDataType) {
        Layer ret = new Layer(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        ParamInitializer init = initializer();
        Map<String, INDArray> paramTable = init.init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }

    /** The layer: DL4J's BatchNormalization with both passes on the running statistics. */
    public static final class Layer extends org.deeplearning4j.nn.layers.normalization.BatchNormalization {
        Layer(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private BatchNormalization bn() {
            return (BatchNormalization) conf().getLayer();
        }

        private int channels() {
            return (int) bn().getNOut();
        }

        /** σ = √(var + ε) per channel, as a vector. */
        private INDArray std() {
            INDArray var;
            if (bn().isUseLogStd()) {
                INDArray log = getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).reshape(channels());
                var = Transforms.pow(Nd4j.valueArrayOf(log.shape(), 10.0, log.dataType()), log.mul(2), false);
            } else {
                var = getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).reshape(channels()).dup();
            }
            return Transforms.sqrt(var.addi(bn().getEps()), false);
        }

        private INDArray gamma() {
            return bn().isLockGammaBeta() ? Nd4j.valueArrayOf(new long[] {channels()}, bn().getGamma(), dataType)
                    : getParam(BatchNormalizationParamInitializer.GAMMA).reshape(channels());
        }

        private INDArray beta() {
            return bn().isLockGammaBeta() ? Nd4j.valueArrayOf(new long[] {channels()}, bn().getBeta(), dataType)
                    : getParam(BatchNormalizationParamInitializer.BETA).reshape(channels());
        }

        /** (x − μ)/σ, per channel along dimension 1. */
        private INDArray normalised(INDArray x) {
            INDArray mean = getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).reshape(channels());
            INDArray centred = Nd4j.getExecutioner().exec(new BroadcastSubOp(x, mean, x.ulike(), 1));
            return Nd4j.getExecutioner().exec(new BroadcastMulOp(centred, std().rdiv(1.0), centred, 1));
        }

        private void checkLayout(INDArray x) {
            if (x.rank() != 2 && x.rank() != 4) {
                throw new IllegalStateException("inference-mode BatchNorm supports rank 2 and 4 activations, found rank "
                        + x.rank() + " at " + layerId());
            }
            if (x.rank() == 4 && bn().getCnn2DFormat() != org.deeplearning4j.nn.conf.CNN2DFormat.NCHW) {
                throw new IllegalStateException("inference-mode BatchNorm supports NCHW activations, found "
                        + bn().getCnn2DFormat() + " at " + layerId());
            }
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            checkLayout(input);
            INDArray xHat = normalised(input);
            INDArray scaled = Nd4j.getExecutioner().exec(new BroadcastMulOp(xHat, gamma(), xHat, 1));
            INDArray out = Nd4j.getExecutioner().exec(new BroadcastAddOp(scaled, beta(), scaled, 1));
            return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, out);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            checkLayout(input);
            int[] over = input.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
            INDArray xHat = normalised(input);
            Gradient g = new DefaultGradient();
            if (!bn().isLockGammaBeta()) {
                INDArray dGamma = gradientViews.get(BatchNormalizationParamInitializer.GAMMA);
                INDArray dBeta = gradientViews.get(BatchNormalizationParamInitializer.BETA);
                dGamma.assign(epsilon.mul(xHat).sum(over).reshape(dGamma.shape()));
                dBeta.assign(epsilon.sum(over).reshape(dBeta.shape()));
                g.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGamma);
                g.setGradientFor(BatchNormalizationParamInitializer.BETA, dBeta);
            }
            String spread = bn().isUseLogStd() ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                    : BatchNormalizationParamInitializer.GLOBAL_VAR;
            INDArray dMean = gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN);
            INDArray dSpread = gradientViews.get(spread);
            dMean.assign(0);
            dSpread.assign(0);
            g.setGradientFor(BatchNormalizationParamInitializer.GLOBAL_MEAN, dMean);
            g.setGradientFor(spread, dSpread);
            INDArray scale = gamma().div(std());
            INDArray dx = Nd4j.getExecutioner().exec(new BroadcastMulOp(epsilon, scale, epsilon.ulike(), 1));
            return new Pair<>(g, workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, dx));
        }
    }
}
