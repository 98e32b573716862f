package io.salun.model;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;

/**
 * A network as it travels to executors: configuration JSON, flat parameters in the order of
 * {@code params()}, the flat updater state in the order of the updater's state view, and the
 * iteration/epoch counters (Adam's bias correction reads the iteration). Rebuilding from a
 * snapshot restores the exact bits.
 */
public record NetworkSnapshot(String configurationJson, float[] parameters, float[] updaterState,
                              int iteration, int epoch) implements Serializable {

    static {
        // before any layer of this JVM exists (executors build every network from a snapshot)
        NativeHelpers.enable();
    }

    /** Captures {@code net} (parameters and updater state are copied). */
    public static NetworkSnapshot of(MultiLayerNetwork net) {
        INDArray state = net.getUpdater(true).getStateViewArray();
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        return new NetworkSnapshot(conf.toJson(), net.params().dup().data().asFloat(),
                state == null ? new float[0] : state.dup().data().asFloat(),
                conf.getIterationCount(), conf.getEpochCount());
    }

    /**
     * The network of {@code configuration} (with its counters reset) at {@code parameters}, with a
     * fresh, zero updater state: the start of a new training stage.
     */
    public static NetworkSnapshot fresh(MultiLayerConfiguration configuration, float[] parameters) {
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(configuration.toJson());
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init(Nd4j.createFromArray(parameters.clone()).reshape(1, parameters.length), false);
        return of(net);
    }

    /** Same network, other parameters and updater state (counters advanced to {@code iteration}). */
    public NetworkSnapshot with(float[] newParameters, float[] newUpdaterState, int newIteration) {
        return new NetworkSnapshot(configurationJson, newParameters, newUpdaterState, newIteration, epoch);
    }

    /** Number of trainable parameters. */
    public int size() {
        return parameters.length;
    }

    /** A fresh network with these exact parameters, updater state and counters. */
    public MultiLayerNetwork build() {
        MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(configurationJson);
        conf.setIterationCount(iteration);
        conf.setEpochCount(epoch);
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init(Nd4j.createFromArray(parameters).reshape(1, parameters.length), false);
        if (updaterState.length > 0) {
            INDArray view = net.getUpdater(true).getStateViewArray();
            if (view == null || view.length() != updaterState.length) {
                throw new IllegalStateException("updater state of " + updaterState.length
                        + " values does not fit the network's updater (" + (view == null ? 0 : view.length()) + ")");
            }
            view.assign(Nd4j.createFromArray(updaterState).reshape(view.shape()));
        }
        return net;
    }
}
