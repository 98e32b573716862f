package io.salun.unlearn;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The unlearning methods of SALUN-SPEC §3, each a small strategy over the one training engine:
 * which records it trains on, which labels, which gradient term, and whether it starts from the
 * original weights θo or from scratch. Any method but Retrain may also run under the saliency
 * mask (GA+mask, FT+mask …); SalUn is RL under the mask.
 */
public enum Method {
    /** Train from scratch on Dr with the original recipe: the gold standard. */
    RETRAIN("retrain", Records.RETAIN, false, Term.NONE, false),
    /** Fine-tune θo on Dr with cross-entropy. */
    FT("ft", Records.RETAIN, false, Term.NONE, false),
    /** Gradient ascent on Df with the true labels. */
    GA("ga", Records.FORGET, false, Term.ASCENT, false),
    /** Random labels on Df mixed with Dr (every weight trainable). */
    RL("rl", Records.ALL, true, Term.NONE, false),
    /** FT plus a linearly decaying l1 penalty. */
    L1_SPARSE("l1-sparse", Records.RETAIN, false, Term.L1, false),
    /** RL restricted to the salient weights. */
    SALUN("salun", Records.ALL, true, Term.NONE, true),
    /**
     * NegGrad+ (Kurmanji et al. 2023): {@code β·ℓ(Dr) − (1 − β)·ℓ(Df)} over the mixed stream
     * ({@code io.salun.train.SignedLabels}).
     */
    NEGGRAD_PLUS("neggrad+", Records.ALL, false, Term.SIGNED, false),
    /**
     * Selective Synaptic Dampening (Foster et al. 2024): no training; the parameters far more
     * important to Df than to D are scaled down ({@link SelectiveDampening}).
     */
    SSD("ssd", Records.ALL, false, Term.NONE, false, false),
    /**
     * SCRUB (Kurmanji et al. 2023): a student from θo against the frozen teacher θo; epochs begin
     * with a max-step pass over Df, then min-steps on Dr ({@code io.salun.train.Distillation}).
     */
    SCRUB("scrub", Records.ALL, false, Term.DISTILL, false),
    /**
     * SFR-on (Huang et al. 2024): retain steps on Dr, each {@code forgetEvery}-th preceded by an
     * adaptive, clipped ascent step on Df under its own Fisher-ratio mask
     * ({@code io.salun.train.ForgetSteps}); it takes no saliency mask of SalUn's.
     */
    SFRON("sfron", Records.ALL, false, Term.FORGET_STEPS, false);

    /** The records a method trains on. */
    public enum Records { ALL, RETAIN, FORGET }

    /**
     * The gradient term a method adds: none, the whole minibatch's gradient negated (GA), the
     * l1 penalty, a signed weight per example (NegGrad+: retain rows descend, forget rows ascend),
     * distillation from the teacher θo with the forget rows ascending (SCRUB), or separate masked
     * ascent steps on Df between the steps on Dr (SFR-on).
     */
    public enum Term { NONE, ASCENT, L1, SIGNED, DISTILL, FORGET_STEPS;

        /** Whether the stage trains with weighted label rows ({@code io.salun.model.WeightedCrossEntropy}). */
        public boolean weightedRows() {
            return this == SIGNED || this == DISTILL || this == FORGET_STEPS;
        }
    }

    private final String id;
    private final Records records;
    private final boolean randomLabels;
    private final Term term;
    private final boolean alwaysMasked;
    private final boolean trains;

    Method(String id, Records records, boolean randomLabels, Term term, boolean alwaysMasked) {
        this(id, records, randomLabels, term, alwaysMasked, true);
    }

    Method(String id, Records records, boolean randomLabels, Term term, boolean alwaysMasked, boolean trains) {
        this.id = id;
        this.records = records;
        this.randomLabels = randomLabels;
        this.term = term;
        this.alwaysMasked = alwaysMasked;
        this.trains = trains;
    }

    /** Whether the method is a training on the engine (every one but SSD, which edits the weights directly). */
    public boolean trains() {
        return trains;
    }

    public String id() {
        return id;
    }

    public Records records() {
        return records;
    }

    public boolean randomLabels() {
        return randomLabels;
    }

    public Term term() {
        return term;
    }

    public boolean alwaysMasked() {
        return alwaysMasked;
    }

    /** Parses a setting value ({@code salun}, {@code l1-sparse} …). */
    public static Method parse(String id) {
        String wanted = id.trim().toLowerCase(Locale.ROOT);
        for (Method m : values()) {
            if (m.id.equals(wanted)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + id + "'; expected one of " + ids());
    }

    /** Every method id, comma-separated. */
    public static String ids() {
        return Arrays.stream(values()).map(Method::id).collect(Collectors.joining(", "));
    }
}
