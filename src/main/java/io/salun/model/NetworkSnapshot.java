package io.salun.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;

/**
 * A network as it travels to executors: its configuration (JSON, stack or graph), flat parameters
 * in the order of {@code params()}, the flat updater state in the order of the updater's state
 * view, and the iteration/epoch counters (Adam's bias correction reads the iteration). Rebuilding
 * from a snapshot restores the exact bits.
 */
public record NetworkSnapshot(NetworkConfig config, float[] parameters, float[] updaterState,
                              int iteration, int epoch) implements Serializable {

    static {
        // before any layer of this JVM exists (executors build every network from a snapshot)
        NativeHelpers.enable();
    }

    /** Captures {@code net} (parameters and updater state are copied). */
    public static NetworkSnapshot of(Net net) {
        INDArray state = net.updaterState();
        NetworkConfig config = net.config();
        int epoch = net.isGraph() ? net.graph().getConfiguration().getEpochCount()
                : net.stack().getLayerWiseConfigurations().getEpochCount();
        return new NetworkSnapshot(config, net.params().dup().data().asFloat(),
                state == null ? new float[0] : state.dup().data().asFloat(), net.iteration(), epoch);
    }

    public static NetworkSnapshot of(MultiLayerNetwork net) {
        return of(Net.of(net));
    }

    public static NetworkSnapshot of(ComputationGraph net) {
        return of(Net.of(net));
    }

    /**
     * The network of {@code config} (with its counters reset) at {@code parameters}, with a fresh,
     * zero updater state: the start of a new training stage.
     */
    public static NetworkSnapshot fresh(NetworkConfig config, float[] parameters) {
        return of(config.at(parameters.clone(), 0, 0));
    }

    /** Same network, other parameters and updater state (counters advanced to {@code iteration}). */
    public NetworkSnapshot with(float[] newParameters, float[] newUpdaterState, int newIteration) {
        return new NetworkSnapshot(config, newParameters, newUpdaterState, newIteration, epoch);
    }

    /** Number of parameters (trainable ones and BatchNorm's running statistics). */
    public int size() {
        return parameters.length;
    }

    /** A fresh network with these exact parameters, updater state and counters. */
    public Net net() {
        Net net = config.at(parameters, iteration, epoch);
        if (updaterState.length > 0) {
            INDArray view = net.updaterState();
            if (view == null || view.length() != updaterState.length) {
                throw new IllegalStateException("updater state of " + updaterState.length
                        + " values does not fit the network's updater (" + (view == null ? 0 : view.length()) + ")");
            }
            view.assign(Nd4j.createFromArray(updaterState).reshape(view.shape()));
        }
        return net;
    }

    /**
     * The network as inference mode sees it, for the saliency pass (SALUN-SPEC §1 step 1):
     * dropout removed, and every BatchNorm layer normalising with its running statistics in the
     * gradient pass too ({@link InferenceBatchNormalization}; DL4J's own layer always uses batch
     * statistics when it computes a gradient). Same parameter layout, so the gradient lines up
     * with {@code params()}; no updater state.
     */
    public NetworkSnapshot inferenceForm() {
        String json = config.json().replace("\"" + org.deeplearning4j.nn.conf.layers.BatchNormalization.class.getName() + "\"",
                "\"" + InferenceBatchNormalization.class.getName() + "\"");
        NetworkConfig inference = new NetworkConfig(json, config.graph()).editLayers(c -> c.getLayer().setIDropout(null));
        return new NetworkSnapshot(inference, parameters, new float[0], iteration, epoch);
    }

    /** As {@link #net()}, for a network known to be a stack (the diffusion denoiser, tests). */
    public MultiLayerNetwork build() {
        return net().stack();
    }
}
