package io.salun.model;

import io.salun.config.InvalidInputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * Saves and loads DL4J models (ModelSerializer zip: configuration JSON, coefficients, optionally
 * updater state) through Hadoop's FileSystem API, so {@code file://}, {@code hdfs://},
 * {@code s3a://} and {@code gs://} paths share one code path.
 */
public final class ModelStore {
    private ModelStore() {
    }

    /** Writes {@code net} to {@code uri}; refuses to replace an existing file. */
    public static void save(MultiLayerNetwork net, String uri, boolean withUpdater, Configuration conf) {
        Path path = new Path(uri);
        try {
            FileSystem fs = path.getFileSystem(conf);
            try (OutputStream out = fs.create(path, false)) {
                ModelSerializer.writeModel(net, out, withUpdater);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write model " + uri + ": " + e.getMessage(), e);
        }
    }

    /** Reads the multilayer network at {@code uri}. */
    public static MultiLayerNetwork load(String uri, String setting, Configuration conf) {
        Path path = new Path(uri);
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new InvalidInputException(setting + ": no model at " + uri);
            }
            if (fs.getFileStatus(path).isDirectory()) {
                throw new InvalidInputException(setting + ": expected a DL4J model zip file at " + uri
                        + ", found a directory");
            }
            try (InputStream in = fs.open(path)) {
                return ModelSerializer.restoreMultiLayerNetwork(in, true);
            }
        } catch (InvalidInputException e) {
            throw e;
        } catch (FileNotFoundException e) {
            throw new InvalidInputException(setting + ": no model at " + uri, e);
        } catch (IOException | RuntimeException e) {
            throw new InvalidInputException(setting + ": " + uri + " is not a DL4J MultiLayerNetwork model zip"
                    + " (expected a ModelSerializer zip with configuration.json and coefficients.bin): " + e.getMessage(), e);
        }
    }

    /** Whether something exists at {@code uri}. */
    public static boolean exists(String uri, Configuration conf) {
        Path path = new Path(uri);
        try {
            return path.getFileSystem(conf).exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("could not check " + uri + ": " + e.getMessage(), e);
        }
    }
}
