package io.salun.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One network of either DL4J kind, a {@link MultiLayerNetwork} (a stack) or a
 * {@link ComputationGraph} (a graph with one input and one output, as a ResNet is), behind the few
 * operations every stage needs: parameters and updater state as flat views, a training step, a
 * gradient, inference, listeners, and the parameter blocks in the order of the flat vector. No
 * stage holds a second copy of its code for graphs.
 */
public final class Net {
    private final MultiLayerNetwork stack;
    private final ComputationGraph graph;

    private Net(MultiLayerNetwork stack, ComputationGraph graph) {
        this.stack = stack;
        this.graph = graph;
    }

    public static Net of(MultiLayerNetwork stack) {
        return new Net(stack, null);
    }

    public static Net of(ComputationGraph graph) {
        if (graph.getConfiguration().getNetworkInputs().size() != 1 || graph.getConfiguration().getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("a graph of one input and one output expected, found "
                    + graph.getConfiguration().getNetworkInputs() + " and " + graph.getConfiguration().getNetworkOutputs());
        }
        return new Net(null, graph);
    }

    /** The network a DL4J listener is given. */
    public static Net of(Model model) {
        if (model instanceof MultiLayerNetwork m) {
            return of(m);
        }
        if (model instanceof ComputationGraph g) {
            return of(g);
        }
        throw new IllegalArgumentException("unsupported model " + model.getClass().getName());
    }

    public boolean isGraph() {
        return graph != null;
    }

    /** The DL4J model (for the APIs both kinds share). */
    public Model model() {
        return isGraph() ? graph : stack;
    }

    /** The stack, for code that only ever builds one (the diffusion denoiser). */
    public MultiLayerNetwork stack() {
        if (stack == null) {
            throw new IllegalStateException("a multilayer network expected, found a computation graph");
        }
        return stack;
    }

    public ComputationGraph graph() {
        if (graph == null) {
            throw new IllegalStateException("a computation graph expected, found a multilayer network");
        }
        return graph;
    }

    /** The flat parameter view, in the order of every layer's (vertex's) parameter table. */
    public INDArray params() {
        return model().params();
    }

    public long numParams() {
        return model().numParams();
    }

    /** The updater's flat state view (momentum, Adam moments), null when the rule keeps none. */
    public INDArray updaterState() {
        return updater().getStateViewArray();
    }

    private BaseMultiLayerUpdater<?> updater() {
        Object u = isGraph() ? graph.getUpdater(true) : stack.getUpdater(true);
        if (!(u instanceof BaseMultiLayerUpdater<?> updater)) {
            throw new IllegalStateException("unsupported updater " + u.getClass());
        }
        return updater;
    }

    /** The updater's blocks (each a run of parameters with one rule) for mapping parameters to state. */
    public List<org.deeplearning4j.nn.updater.UpdaterBlock> updaterBlocks() {
        return updater().getUpdaterBlocks();
    }

    /** Inference ({@code train = false}: dropout off, BatchNorm on its running statistics) or training-mode output. */
    public INDArray output(INDArray features, boolean train) {
        return isGraph() ? graph.outputSingle(train, features) : stack.output(features, train);
    }

    /** One minibatch step of the network's updater. */
    public void fit(INDArray features, INDArray labels) {
        if (isGraph()) {
            graph.fit(new INDArray[] {features}, new INDArray[] {labels});
        } else {
            stack.fit(features, labels);
        }
    }

    /** The loss of the last step or gradient (with the regularisation penalty). */
    public double score() {
        return model().score();
    }

    /** The L2/weight-decay penalty the score includes. */
    public double regularizationScore() {
        return isGraph() ? graph.calcRegularizationScore(true) : stack.calcRegularizationScore(true);
    }

    /**
     * The gradient of the loss at {@code features}, {@code labels} (training-mode forward pass),
     * as the network's flat gradient view: the sum over the minibatch, reused by the next call.
     */
    public INDArray gradient(INDArray features, INDArray labels) {
        if (isGraph()) {
            graph.setInputs(features);
            graph.setLabels(labels);
            graph.computeGradientAndScore();
        } else {
            stack.setInput(features);
            stack.setLabels(labels);
            stack.computeGradientAndScore();
        }
        return model().gradient().gradient();
    }

    public void addListeners(TrainingListener... listeners) {
        model().addListeners(listeners);
    }

    /** Releases the arrays of the last forward and backward pass. */
    public void clear() {
        model().clear();
    }

    /** Iterations (minibatch steps) done, as DL4J counts them in the configuration. */
    public int iteration() {
        return isGraph() ? graph.getConfiguration().getIterationCount() : stack.getLayerWiseConfigurations().getIterationCount();
    }

    /** Sets the iteration and epoch counters (the update rules' schedules and Adam's bias correction read them). */
    public void setCounters(int iteration, int epoch) {
        if (isGraph()) {
            graph.getConfiguration().setIterationCount(iteration);
            graph.getConfiguration().setEpochCount(epoch);
        } else {
            stack.getLayerWiseConfigurations().setIterationCount(iteration);
            stack.getLayerWiseConfigurations().setEpochCount(epoch);
        }
    }

    /**
     * The labels of the step being fitted, as the output layer holds them while DL4J computes the
     * gradient (for a listener's {@code onGradientCalculation}); null outside a step.
     */
    public INDArray labels() {
        org.deeplearning4j.nn.api.Layer out = isGraph() ? graph.getOutputLayer(0) : stack.getOutputLayer();
        return out instanceof org.deeplearning4j.nn.api.layers.IOutputLayer o ? o.getLabels() : null;
    }

    /** The size of the current minibatch. */
    public int batchSize() {
        return isGraph() ? graph.batchSize() : stack.batchSize();
    }

    /** The number of outputs of the network's output layer (the classes). */
    public long outputs() {
        Layer out = isGraph() ? graph.getOutputLayer(0) : stack.getOutputLayer();
        if (!(out.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer ff)) {
            throw new IllegalStateException("no classification output layer");
        }
        return ff.getNOut();
    }

    /** Whether the output layer is a feed-forward classification layer. */
    public boolean endsInClassifier() {
        Layer out = isGraph() ? graph.getOutputLayer(0) : stack.getOutputLayer();
        return out.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
    }

    /** One layer's parameter of the flat vector: its layer, kind, key and length. */
    public record Block(int index, String layer, org.deeplearning4j.nn.conf.layers.Layer conf, String param, long length) {
    }

    /** The parameter blocks in the order of the flat parameter vector. */
    public List<Block> blocks() {
        List<Block> blocks = new ArrayList<>();
        if (isGraph()) {
            int index = 0;
            for (int v : graph.topologicalSortOrder()) {
                GraphVertex vertex = graph.getVertices()[v];
                if (vertex.hasLayer()) {
                    Layer layer = vertex.getLayer();
                    for (Map.Entry<String, INDArray> p : layer.paramTable().entrySet()) {
                        blocks.add(new Block(index, vertex.getVertexName(), layer.conf().getLayer(), p.getKey(),
                                p.getValue().length()));
                    }
                }
                index++;
            }
        } else {
            for (int i = 0; i < stack.getnLayers(); i++) {
                Layer layer = stack.getLayer(i);
                for (Map.Entry<String, INDArray> p : layer.paramTable().entrySet()) {
                    blocks.add(new Block(i, String.valueOf(i), layer.conf().getLayer(), p.getKey(), p.getValue().length()));
                }
            }
        }
        return blocks;
    }

    /**
     * A network of this one's configuration (its counters kept) at {@code parameters}: what is
     * saved as the unlearned model.
     */
    public Net withParameters(float[] parameters) {
        INDArray p = org.nd4j.linalg.factory.Nd4j.createFromArray(parameters).reshape(1, parameters.length);
        if (isGraph()) {
            ComputationGraph g = new ComputationGraph(graph.getConfiguration().clone());
            g.init(p, false);
            return of(g);
        }
        MultiLayerNetwork n = new MultiLayerNetwork(stack.getLayerWiseConfigurations().clone());
        n.init(p, false);
        return of(n);
    }

    /** The network's configuration as JSON, its kind told apart by {@link NetworkConfig}. */
    public NetworkConfig config() {
        return isGraph() ? NetworkConfig.of(graph.getConfiguration()) : NetworkConfig.of(stack.getLayerWiseConfigurations());
    }
}
