package io.salun.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A network's configuration as it travels (JSON) with its kind: a multilayer stack or a
 * computation graph. Builds networks of that kind, fresh or at given parameters, and copies of
 * itself with another optimiser.
 */
public record NetworkConfig(String json, boolean graph) implements Serializable {

    public static NetworkConfig of(MultiLayerConfiguration conf) {
        return new NetworkConfig(conf.toJson(), false);
    }

    public static NetworkConfig of(ComputationGraphConfiguration conf) {
        return new NetworkConfig(conf.toJson(), true);
    }

    /** Every layer's configuration, in the order of the stack or of the graph's vertices. */
    public List<NeuralNetConfiguration> layers() {
        List<NeuralNetConfiguration> out = new ArrayList<>();
        if (graph) {
            for (Map.Entry<String, GraphVertex> v : ComputationGraphConfiguration.fromJson(json).getVertices().entrySet()) {
                if (v.getValue() instanceof LayerVertex lv) {
                    out.add(lv.getLayerConf());
                }
            }
        } else {
            out.addAll(MultiLayerConfiguration.fromJson(json).getConfs());
        }
        return out;
    }

    /**
     * This configuration with {@code edit} applied to every layer's configuration and the
     * iteration and epoch counters reset.
     */
    public NetworkConfig editLayers(java.util.function.Consumer<NeuralNetConfiguration> edit) {
        if (graph) {
            ComputationGraphConfiguration c = ComputationGraphConfiguration.fromJson(json);
            for (GraphVertex v : c.getVertices().values()) {
                if (v instanceof LayerVertex lv) {
                    edit.accept(lv.getLayerConf());
                }
            }
            c.setIterationCount(0);
            c.setEpochCount(0);
            return of(c);
        }
        MultiLayerConfiguration c = MultiLayerConfiguration.fromJson(json);
        c.getConfs().forEach(edit);
        c.setIterationCount(0);
        c.setEpochCount(0);
        return of(c);
    }

    /** A network of this configuration with counters {@code iteration}, {@code epoch}, initialised by its own seed. */
    public Net init(int iteration, int epoch) {
        return build(iteration, epoch, null);
    }

    /** A network of this configuration at {@code parameters} (copied in), counters {@code iteration}, {@code epoch}. */
    public Net at(float[] parameters, int iteration, int epoch) {
        return build(iteration, epoch, parameters);
    }

    private Net build(int iteration, int epoch, float[] parameters) {
        NativeHelpers.enable();
        if (graph) {
            ComputationGraphConfiguration c = ComputationGraphConfiguration.fromJson(json);
            c.setIterationCount(iteration);
            c.setEpochCount(epoch);
            ComputationGraph g = new ComputationGraph(c);
            if (parameters == null) {
                g.init();
            } else {
                g.init(flat(parameters, c.getDataType()), false);
            }
            return Net.of(g);
        }
        MultiLayerConfiguration c = MultiLayerConfiguration.fromJson(json);
        c.setIterationCount(iteration);
        c.setEpochCount(epoch);
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        if (parameters == null) {
            n.init();
        } else {
            n.init(flat(parameters, c.getDataType()), false);
        }
        return Net.of(n);
    }

    /** The parameters as the row vector a network of {@code type} is initialised with. */
    private static org.nd4j.linalg.api.ndarray.INDArray flat(float[] parameters, org.nd4j.linalg.api.buffer.DataType type) {
        org.nd4j.linalg.api.ndarray.INDArray p = Nd4j.createFromArray(parameters).reshape(1, parameters.length);
        return p.dataType() == type ? p : p.castTo(type);
    }
}
