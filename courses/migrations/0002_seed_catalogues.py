"""Catalogues seeded from DOMAIN.md. Clinic admins edit them afterwards; this only fills an empty clinic."""

from decimal import Decimal

from django.db import migrations

CONDITIONS = [
    ("Knee osteoarthritis", "M17.9"),
    ("Hip osteoarthritis", "M16.9"),
    ("Shoulder osteoarthritis", "M19.01"),
    ("Lateral epicondylosis (tennis elbow)", "M77.1"),
    ("Rotator cuff tendinopathy / partial tear", "M75.1"),
    ("Low back pain", "M54.5"),
    ("Sacroiliac joint dysfunction", "M53.3"),
    ("Neck pain", "M54.2"),
    ("Degenerative disc disease", "M51.3"),
    ("Achilles tendinopathy", "M76.6"),
    ("Plantar fasciitis / heel spur", "M72.2"),
    ("TMJ dysfunction", "M26.6"),
    ("Wrist and hand pain", "M25.53"),
    ("Carpal tunnel syndrome", "G56.0"),
    ("Meniscal tear", "S83.2"),
    ("Ligament sprain / sports injury", "T14.3"),
    ("Fibromyalgia", "M79.7"),
    ("Sciatica", "M54.3"),
    ("Other", ""),
]

L, T, C, IA, PN = "ligament", "tendon", "capsule", "intra_articular", "perineural"
PNEUMOTHORAX = "Pneumothorax risk: keep the needle on bone."
# (region, name, structure type, needs spinal level, risk note)
SITES = [
    ("head", "TMJ intra-articular", IA, False, ""),
    ("head", "TMJ capsule", C, False, ""),
    ("head", "TMJ disc attachment", L, False, ""),
    ("cervical", "Nuchal line / occiput", T, False, ""),
    ("cervical", "Facet capsule", C, True, ""),
    ("cervical", "Facet intra-articular", IA, True, ""),
    ("cervical", "Spinous / interspinous", L, True, ""),
    ("cervical", "Transverse processes", L, True, ""),
    ("cervical", "Levator scapulae insertion", T, False, ""),
    ("cervical", "Upper trapezius attachment", T, False, ""),
    ("thoracic", "Facet / costotransverse", C, True, PNEUMOTHORAX),
    ("thoracic", "Spinous / interspinous", L, True, PNEUMOTHORAX),
    ("thoracic", "Rib angles", L, True, PNEUMOTHORAX),
    ("lumbar_pelvis", "Supraspinous / interspinous", L, True, ""),
    ("lumbar_pelvis", "Facet capsule", C, True, ""),
    ("lumbar_pelvis", "Iliolumbar ligament", L, False, ""),
    ("lumbar_pelvis", "Posterior SI ligaments", L, False, ""),
    ("lumbar_pelvis", "Long dorsal SI ligament", L, False, ""),
    ("lumbar_pelvis", "SI joint intra-articular", IA, False, ""),
    ("lumbar_pelvis", "Sacrotuberous ligament", L, False, ""),
    ("lumbar_pelvis", "Iliac crest / thoracolumbar fascia", L, False, ""),
    ("lumbar_pelvis", "Sacrococcygeal", L, False, ""),
    ("hip", "Hip intra-articular", IA, False, ""),
    ("hip", "Greater trochanter", T, False, ""),
    ("hip", "Ischial tuberosity", T, False, ""),
    ("hip", "Adductor / pubic", T, False, ""),
    ("knee", "Knee intra-articular", IA, False, ""),
    ("knee", "MCL femoral", L, False, ""),
    ("knee", "MCL tibial", L, False, ""),
    ("knee", "LCL femoral", L, False, ""),
    ("knee", "LCL fibular", L, False, ""),
    ("knee", "Pes anserine", T, False, ""),
    ("knee", "Coronary ligament medial", L, False, ""),
    ("knee", "Coronary ligament lateral", L, False, ""),
    ("knee", "Patellar tendon", T, False, ""),
    ("knee", "Tibial tuberosity", T, False, ""),
    ("knee", "Quadriceps tendon", T, False, ""),
    ("knee", "Patellar retinaculum", L, False, ""),
    ("ankle_foot", "Ankle intra-articular", IA, False, ""),
    ("ankle_foot", "ATFL", L, False, ""),
    ("ankle_foot", "CFL", L, False, ""),
    ("ankle_foot", "Deltoid ligament", L, False, ""),
    ("ankle_foot", "Achilles peritendon", "intratendinous", False, ""),
    ("ankle_foot", "Achilles insertion", T, False, ""),
    ("ankle_foot", "Plantar fascia origin", T, False, ""),
    ("ankle_foot", "First MTP", IA, False, ""),
    ("shoulder", "Glenohumeral intra-articular", IA, False, ""),
    ("shoulder", "Supraspinatus enthesis", T, False, ""),
    ("shoulder", "Infraspinatus enthesis", T, False, ""),
    ("shoulder", "Subscapularis enthesis", T, False, ""),
    ("shoulder", "Bicipital groove", T, False, ""),
    ("shoulder", "AC joint", C, False, ""),
    ("shoulder", "Coracoid", L, False, ""),
    ("elbow_wrist_hand", "Common extensor origin", T, False, ""),
    ("elbow_wrist_hand", "Lateral supracondylar ridge", T, False, ""),
    ("elbow_wrist_hand", "Annular ligament", L, False, ""),
    ("elbow_wrist_hand", "Common flexor origin", T, False, ""),
    ("elbow_wrist_hand", "Elbow UCL", L, False, ""),
    ("elbow_wrist_hand", "Wrist / TFCC", L, False, ""),
    ("elbow_wrist_hand", "First CMC", IA, False, ""),
    ("elbow_wrist_hand", "Finger joints", IA, False, ""),
    ("nerve", "Perineural subcutaneous", PN, False, "Name the nerve in the session notes."),
]

# (name, type, stock %)
PRODUCTS = [
    ("Dextrose 50%", "dextrose", "50"),
    ("Lidocaine 1%", "anaesthetic", "1"),
    ("Lidocaine 2%", "anaesthetic", "2"),
    ("Procaine 1%", "anaesthetic", "1"),
    ("Ropivacaine 0.2%", "anaesthetic", "0.2"),
    ("Bupivacaine 0.25%", "anaesthetic", "0.25"),
    ("Mepivacaine 1%", "anaesthetic", "1"),
    ("Sodium morrhuate 5%", "sclerosant", "5"),
    ("Polidocanol 1%", "sclerosant", "1"),
    ("P2G (glucose 12.5% / glycerine 12.5% / phenol 1.2%)", "p2g", "12.5"),
    ("Sodium chloride 0.9% (saline)", "diluent", "0"),
    ("Bacteriostatic water", "diluent", "0"),
    ("Platelet-rich plasma", "biologic", "0"),
]

# (name, category)
SIDE_EFFECT_TERMS = [
    ("Post-injection pain / flare", "local"),
    ("Stiffness", "local"),
    ("Swelling", "local"),
    ("Bruising", "local"),
    ("Numbness", "local"),
    ("Injection-site infection", "local"),
    ("Septic joint", "local"),
    ("Nerve irritation or injury", "procedural"),
    ("Dural puncture headache", "procedural"),
    ("Pneumothorax", "procedural"),
    ("Vasovagal syncope", "procedural"),
    ("Allergic reaction", "systemic"),
    ("Anaphylaxis", "systemic"),
    ("Transient hyperglycaemia", "systemic"),
    ("Blood clot", "systemic"),
    ("Other", "systemic"),
]

# (code, name, min, max, higher is better, MCID absolute, MCID % of baseline)
INSTRUMENTS = [
    ("NRS", "Pain NRS", "0", "10", False, "2", "30"),
    ("VAS", "Pain VAS (mm)", "0", "100", False, "15", None),
    ("WOMAC", "WOMAC (0–100 normalised)", "0", "100", False, "12", "20"),
    ("KOOS", "KOOS (subscale)", "0", "100", True, "10", None),
    ("ODI", "Oswestry Disability Index", "0", "100", False, "10", "30"),
    ("RMDQ", "Roland-Morris Disability Questionnaire", "0", "24", False, "5", None),
    ("NDI", "Neck Disability Index", "0", "50", False, "7.5", None),
    ("QDASH", "QuickDASH", "0", "100", False, "15", None),
    ("PRTEE", "Patient-Rated Tennis Elbow Evaluation", "0", "100", False, "11", "37"),
    ("VISA-A", "VISA-A (Achilles)", "0", "100", True, "20", None),
]


def forwards(apps, schema_editor):
    Condition = apps.get_model("courses", "Condition")
    InjectionSite = apps.get_model("courses", "InjectionSite")
    Product = apps.get_model("courses", "Product")
    SideEffectTerm = apps.get_model("courses", "SideEffectTerm")
    OutcomeInstrument = apps.get_model("courses", "OutcomeInstrument")
    ProtocolSettings = apps.get_model("courses", "ProtocolSettings")

    for name, code in CONDITIONS:
        Condition.objects.get_or_create(name=name, defaults={"icd10_code": code})
    for region, name, structure, spinal, risk in SITES:
        InjectionSite.objects.get_or_create(
            region=region,
            name=name,
            defaults={"structure_type": structure, "needs_spinal_level": spinal, "risk_note": risk},
        )
    for name, product_type, stock in PRODUCTS:
        Product.objects.get_or_create(
            name=name, defaults={"product_type": product_type, "stock_concentration_percent": Decimal(stock)}
        )
    for name, category in SIDE_EFFECT_TERMS:
        SideEffectTerm.objects.get_or_create(name=name, defaults={"category": category})
    for code, name, low, high, better, mcid, mcid_pct in INSTRUMENTS:
        OutcomeInstrument.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "min_score": Decimal(low),
                "max_score": Decimal(high),
                "higher_is_better": better,
                "mcid_absolute": Decimal(mcid),
                "mcid_relative_percent": Decimal(mcid_pct) if mcid_pct else None,
            },
        )
    ProtocolSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("courses", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
