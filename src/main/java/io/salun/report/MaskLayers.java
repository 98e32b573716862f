package io.salun.report;

import io.salun.mask.Bitset;
import io.salun.mask.SaliencyMask;
import io.salun.model.NetworkSnapshot;
import io.salun.model.Net;
import io.salun.model.ParameterRoles;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The fraction of each parameter block (layer × weight/bias) that a mask keeps trainable. */
public final class MaskLayers {
    private MaskLayers() {
    }

    /** Rows {layer, param, count, fraction} in the order of the flattened parameters. */
    public static List<Map<String, Object>> fractions(Bitset mask, NetworkSnapshot network) {
        List<Map<String, Object>> layers = new ArrayList<>();
        long offset = 0;
        boolean graph = network.config().graph();
        for (Net.Block b : network.net().blocks()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("layer", graph ? b.layer() : (Object) b.index());
            row.put("type", b.conf().getClass().getSimpleName());
            row.put("param", b.param());
            row.put("role", ParameterRoles.role(b));
            row.put("count", b.length());
            row.put("fraction", SaliencyMask.fractionSet(mask, (int) offset, (int) (offset + b.length())));
            layers.add(row);
            offset += b.length();
        }
        if (offset != mask.size()) {
            throw new IllegalStateException("parameter blocks cover " + offset + " of " + mask.size() + " mask bits");
        }
        return layers;
    }

    /** How many of the network's parameters have {@code role} ({@link ParameterRoles#role}). */
    public static long count(NetworkSnapshot network, String role) {
        long n = 0;
        for (Net.Block b : network.net().blocks()) {
            n += ParameterRoles.role(b).equals(role) ? b.length() : 0;
        }
        return n;
    }

    /** The per-block mask fractions of trainable blocks as a bar chart (a data URI). */
    public static String chart(List<Map<String, Object>> layers) {
        List<String> labels = new ArrayList<>();
        List<Double> fractions = new ArrayList<>();
        for (Map<String, Object> l : layers) {
            if (!"trainable".equals(l.get("role"))) {
                continue;
            }
            labels.add(label(l));
            fractions.add((Double) l.get("fraction"));
        }
        return Charts.bars("Fraction of each parameter block the saliency mask keeps trainable", "fraction",
                "mask", labels, fractions);
    }

    /** Short chart label of a row: "conv0.W", "dense4.b", "out5.W". */
    public static String label(Map<String, Object> row) {
        String type = String.valueOf(row.get("type"));
        String kind = switch (type) {
            case "ConvolutionLayer" -> "conv";
            case "DenseLayer" -> "dense";
            case "OutputLayer" -> "out";
            case "BatchNormalization" -> "bn";
            default -> type;
        };
        return kind + row.get("layer") + "." + row.get("param");
    }
}
