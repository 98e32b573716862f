package io.salun.model;

import io.salun.config.InvalidInputException;
import io.salun.model.Safetensors.Tensor;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * PyTorch weights in and out: the {@code state_dict} of the reference's CIFAR ResNet-18
 * (torchvision's {@code resnet18} with {@code conv1} 3×3 stride 1 and no {@code maxpool}; keys
 * {@code conv1.weight}, {@code bn1.weight|bias|running_mean|running_var|num_batches_tracked},
 * {@code layer{1..4}.{0,1}.conv{1,2}.weight}, {@code layer{1..4}.{0,1}.bn{1,2}.…},
 * {@code layer{2,3,4}.0.downsample.{0,1}.…}, {@code fc.weight|bias}, and, as the reference's
 * checkpoints carry them, {@code normalize.mean|std}) or of the reference LeNet ({@code conv1},
 * {@code conv2}, {@code fc1}, {@code fc2}, weight and bias each), mapped onto the DL4J network of
 * that architecture, and back.
 *
 * <p>Layouts, read and written through each parameter's view so DL4J's storage order (a dense
 * weight is column-major there) does not matter: convolution kernels are OIHW in both; a dense
 * layer's weight is {@code [out, in]} in PyTorch and {@code [in, out]} in DL4J (transposed); BatchNorm's {@code weight}, {@code bias},
 * {@code running_mean} and {@code running_var} are DL4J's {@code gamma}, {@code beta}, {@code mean}
 * and {@code var} (both frameworks normalise with √(var + ε) at inference, ε = 1e-5);
 * {@code num_batches_tracked} has no DL4J counterpart and is carried through from the imported file
 * (PyTorch reads it only with {@code momentum=None}). The LeNet's dense input is the convolution's
 * output flattened channel-major in both. {@code normalize.mean|std} become a frozen 1×1
 * convolution at the graph's input ({@code x ↦ (x − mean)/std} per channel), never trained, and are
 * written back unchanged.
 */
public final class TorchWeights {
    /** The key of BatchNorm's step counter, which DL4J has no parameter for. */
    private static final String STEPS = "num_batches_tracked";

    private TorchWeights() {
    }

    /** One PyTorch tensor of a DL4J parameter block: its key and whether the layouts are transposed. */
    record Slot(String key, boolean transposed) {
    }

    /** The PyTorch key of DL4J block {@code b} of an {@code arch} network. */
    static Slot slot(Architecture arch, Net.Block b) {
        String param = b.param();
        if (arch == Architecture.RESNET18) {
            String base = b.layer();
            if (b.conf() instanceof BatchNormalization) {
                return new Slot(base + "." + switch (param) {
                    case "gamma" -> "weight";
                    case "beta" -> "bias";
                    case "mean" -> "running_mean";
                    case "var" -> "running_var";
                    default -> throw new IllegalStateException("BatchNorm parameter " + param + " has no PyTorch key");
                }, false);
            }
            if (base.equals(ResNet18.NORMALIZE)) {
                return new Slot(base + "." + param, false);
            }
            boolean dense = b.conf() instanceof OutputLayer || b.conf() instanceof DenseLayer;
            return new Slot(base + "." + (param.equals("W") ? "weight" : "bias"), dense && param.equals("W"));
        }
        if (arch == Architecture.LENET) {
            String base = switch (b.index()) {
                case 0 -> "conv1";
                case 2 -> "conv2";
                case 4 -> "fc1";
                case 5 -> "fc2";
                default -> throw new IllegalStateException("LeNet layer " + b.index() + " has no parameters");
            };
            boolean dense = !(b.conf() instanceof ConvolutionLayer);
            return new Slot(base + "." + (param.equals("W") ? "weight" : "bias"), dense && param.equals("W"));
        }
        throw new InvalidInputException("model.arch: PyTorch weights are read for lenet and resnet18, found "
                + arch.name().toLowerCase(java.util.Locale.ROOT));
    }

    /** Whether a ResNet state_dict carries the reference's input normalisation. */
    public static boolean normalises(Map<String, Tensor> state) {
        return state.containsKey(ResNet18.NORMALIZE + ".mean") || state.containsKey(ResNet18.NORMALIZE + ".std");
    }

    /** The number of classes of a state_dict: the rows of its last dense weight. */
    public static int classes(Map<String, Tensor> state, Architecture arch, String setting, String source) {
        String key = arch == Architecture.LENET ? "fc2.weight" : "fc.weight";
        Tensor t = state.get(key);
        if (t == null || t.shape().length != 2) {
            throw new InvalidInputException(setting + ": " + source + " has no " + key + " of shape [classes, features]"
                    + (t == null ? "" : ", found " + t.shapeText()));
        }
        return (int) t.shape()[0];
    }

    /**
     * Copies the tensors of {@code state} into {@code net} (an {@code arch} network built for the
     * data), checking that every key it needs is there with its shape and a floating-point dtype,
     * and that no other key is.
     *
     * @throws InvalidInputException naming {@code setting}, {@code source}, the key and both shapes
     */
    public static void load(Map<String, Tensor> state, Net net, Architecture arch, String setting, String source) {
        String at = setting + ": " + source;
        TreeSet<String> used = new TreeSet<>();
        boolean normalisation = false;
        for (Net.Block b : net.blocks()) {
            if (arch == Architecture.RESNET18 && b.layer().equals(ResNet18.NORMALIZE)) {
                normalisation = true;
                continue;
            }
            INDArray view = view(net, b);
            Slot s = slot(arch, b);
            Tensor t = state.get(s.key());
            long[] expected = torchShape(b, view.shape(), s.transposed());
            if (t == null) {
                throw new InvalidInputException(at + " lacks " + s.key() + " (expected shape " + Arrays.toString(expected)
                        + " for this " + arch.name().toLowerCase(java.util.Locale.ROOT) + "); its keys: "
                        + Safetensors.names(new ArrayList<>(state.keySet())));
            }
            if (!t.isFloating()) {
                throw new InvalidInputException(at + ": " + s.key() + " has dtype " + t.dtype() + "; expected a"
                        + " floating-point tensor (F32)");
            }
            if (!Arrays.equals(t.shape(), expected)) {
                throw new InvalidInputException(at + ": " + s.key() + " has shape " + t.shapeText() + "; this "
                        + arch.name().toLowerCase(java.util.Locale.ROOT) + " (model.width, data.image.*) needs "
                        + Arrays.toString(expected));
            }
            INDArray src = Nd4j.createFromArray(t.floats()).reshape('c', expected).castTo(view.dataType());
            view.assign(s.transposed() ? src.transpose() : src.reshape('c', view.shape()));
            used.add(s.key());
        }
        if (normalisation) {
            loadNormalisation(state, net, at, used);
        }
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(used);
        unexpected.removeIf(k -> k.endsWith("." + STEPS) && used.contains(k.substring(0, k.length() - STEPS.length())
                + "running_mean"));
        if (!unexpected.isEmpty()) {
            throw new InvalidInputException(at + " holds " + unexpected.size() + " key(s) this "
                    + arch.name().toLowerCase(java.util.Locale.ROOT) + " does not have: "
                    + Safetensors.names(new ArrayList<>(unexpected)));
        }
    }

    /** The parameter view of block {@code b} (its logical shape, whatever its storage order). */
    private static INDArray view(Net net, Net.Block b) {
        org.deeplearning4j.nn.api.Layer layer = net.isGraph() ? net.graph().getVertex(b.layer()).getLayer()
                : net.stack().getLayer(b.index());
        return layer.paramTable().get(b.param());
    }

    /**
     * PyTorch's shape of a DL4J block of shape {@code dl4j}: a dense weight's transposed; biases and
     * BatchNorm vectors (DL4J's {@code [1, n]}) 1-D.
     */
    private static long[] torchShape(Net.Block b, long[] dl4j, boolean transposed) {
        if (transposed) {
            return new long[] {dl4j[1], dl4j[0]};
        }
        if (dl4j.length == 2 && dl4j[0] == 1 && !b.param().equals("W")) {
            return new long[] {dl4j[1]};
        }
        return dl4j;
    }

    /** The frozen 1×1 convolution of {@code (x − mean)/std}: W = diag(1/std), b = −mean/std. */
    private static void loadNormalisation(Map<String, Tensor> state, Net net, String at, TreeSet<String> used) {
        Map<String, INDArray> table = net.graph().getVertex(ResNet18.NORMALIZE).getLayer().paramTable();
        int c = (int) table.get("b").length();
        float[] mean = vector(state, ResNet18.NORMALIZE + ".mean", c, at);
        float[] std = vector(state, ResNet18.NORMALIZE + ".std", c, at);
        float[] w = new float[c * c];
        float[] bias = new float[c];
        for (int i = 0; i < c; i++) {
            if (!(std[i] > 0)) {
                throw new InvalidInputException(at + ": normalize.std[" + i + "] is " + std[i] + "; expected > 0");
            }
            w[i * c + i] = 1 / std[i];
            bias[i] = -mean[i] / std[i];
        }
        table.get("W").assign(Nd4j.createFromArray(w).reshape(table.get("W").shape()).castTo(table.get("W").dataType()));
        table.get("b").assign(Nd4j.createFromArray(bias).reshape(table.get("b").shape()).castTo(table.get("b").dataType()));
        used.add(ResNet18.NORMALIZE + ".mean");
        used.add(ResNet18.NORMALIZE + ".std");
    }

    private static float[] vector(Map<String, Tensor> state, String key, int c, String at) {
        Tensor t = state.get(key);
        if (t == null || t.elements() != c || !t.isFloating()) {
            throw new InvalidInputException(at + ": " + key + " should be a floating-point vector of " + c + " channels, found "
                    + (t == null ? "none" : t.dtype() + " " + t.shapeText()));
        }
        return t.floats();
    }

    /**
     * {@code net}'s weights as a state_dict with PyTorch's keys, shapes and dtypes (F32; the step
     * counters I64): what {@code load_state_dict(strict=True)} of the same architecture accepts.
     * {@code imported} is the state_dict the network was read from, if any: its step counters and
     * input normalisation are written back as they were.
     */
    public static Map<String, Tensor> export(Net net, Architecture arch, Optional<Map<String, Tensor>> imported) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Net.Block b : net.blocks()) {
            if (arch == Architecture.RESNET18 && b.layer().equals(ResNet18.NORMALIZE)) {
                continue;
            }
            INDArray view = view(net, b);
            Slot s = slot(arch, b);
            long[] shape = torchShape(b, view.shape(), s.transposed());
            INDArray logical = (s.transposed() ? view.transpose() : view).dup('c');
            out.put(s.key(), Tensor.ofFloats(shape, logical.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).data().asFloat()));
            if (b.conf() instanceof BatchNormalization && b.param().equals("mean")) {
                String steps = b.layer() + "." + STEPS;
                out.put(steps, imported.map(m -> m.get(steps)).filter(t -> t != null).orElse(Tensor.ofLong(0)));
            }
        }
        imported.ifPresent(m -> {
            for (String k : List.of(ResNet18.NORMALIZE + ".mean", ResNet18.NORMALIZE + ".std")) {
                if (m.containsKey(k)) {
                    out.put(k, m.get(k));
                }
            }
        });
        return out;
    }

}
