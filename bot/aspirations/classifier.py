"""Keyword/phrase classifier that suggests an aspiration category.

Pure Python, standard library only: no I/O, no external service, no ML model.
Works on Bahasa Indonesia plus common Javanese and Madurese words used in
Kabupaten Probolinggo.

Pipeline:

1. ``normalize`` lowercases the text, strips accents and punctuation, squeezes
   stretched letters ("rusaaak" -> "rusak"), drops reduplication markers
   ("bolong2" -> "bolong"), expands abbreviations ("jln" -> "jalan") and maps
   regional words to Indonesian ("dalan" -> "jalan", "kreteg" -> "jembatan").
2. Every phrase in ``KEYWORDS`` is matched on word boundaries (so "jalan" does
   not fire inside "perjalanan"); common suffixes (-nya, -e, -ne, -na, -an) are
   tolerated on words of four letters or more. ``"a ~ b"`` means *b* follows *a*
   within ``NEAR_GAP`` words ("jalan menuju SDN 2 rusak").
3. A category's score is the sum of the weights of its distinct matched
   phrases; a phrase that occurs more than once gets ``REPEAT_BONUS`` x its
   weight once more (repetition marks the main topic). Multi-word phrases
   carry larger weights than single words, and a contiguous multi-word phrase
   *owns* its words: a shorter phrase of another category lying entirely
   inside it does not count ("jalan usaha tani" is a road, so its "usaha" and
   "tani" do not score for ekonomi).
4. Mentions of the camat / kecamatan office together with a misconduct or
   service-quality cue get ``KECAMATAN_MISCONDUCT_BONUS``, so that they beat
   generic service words.
5. The highest score wins; ties are broken by ``TIE_BREAK_ORDER``. If nothing
   reaches ``MIN_SCORE`` the result is ``lainnya``.
"""

from __future__ import annotations

import re
import unicodedata

FALLBACK = "lainnya"

CATEGORIES: tuple[str, ...] = (
    "infrastruktur",
    "pelayanan_publik",
    "kesehatan",
    "pendidikan",
    "sosial",
    "ekonomi",
    "lingkungan",
    "kinerja_kecamatan",
    "lainnya",
)

# Deterministic tie-break: earlier wins. Specific categories come before the
# ones built on generic words ("jalan", "rusak", "pelayanan").
TIE_BREAK_ORDER: tuple[str, ...] = (
    "kinerja_kecamatan",
    "kesehatan",
    "pendidikan",
    "sosial",
    "lingkungan",
    "ekonomi",
    "pelayanan_publik",
    "infrastruktur",
    "lainnya",
)

# Below this best score the text is considered unclassifiable -> "lainnya".
MIN_SCORE = 2.0

# Fraction of a phrase's weight added (once) when it occurs more than once.
REPEAT_BONUS = 0.5

# Max number of words allowed between the two parts of an "a ~ b" phrase.
NEAR_GAP = 4

# Added to kinerja_kecamatan when the camat/kecamatan office is mentioned
# together with a misconduct or service-quality cue.
KECAMATAN_MISCONDUCT_BONUS = 4.0
#: A damaged road or bridge is the main ask even when the text says who uses it (teachers, pupils, farmers).
ROAD_DAMAGE_BONUS = 4.0
ROAD_DAMAGE_PHRASES = (
    "jalan ~ rusak", "jalan ~ berlubang", "jalan ~ bolong", "jalan ~ licin", "jalan ~ ambles", "jalan ~ longsor",
    "jalan ~ becek", "jalan ~ hancur", "jembatan ~ putus", "jembatan ~ rusak", "jembatan ~ ambrol",
    "jembatan ~ roboh",
)

# The 24 kecamatan of Kabupaten Probolinggo. "kecamatan <name>" is a location,
# not a complaint about the kecamatan office.
KECAMATAN_NAMES: tuple[str, ...] = (
    "bantaran",
    "banyuanyar",
    "besuk",
    "dringu",
    "gading",
    "gending",
    "kotaanyar",
    "kraksaan",
    "krejengan",
    "krucil",
    "kuripan",
    "leces",
    "lumbang",
    "maron",
    "pajarakan",
    "paiton",
    "pakuniran",
    "sukapura",
    "sumber",
    "sumberasih",
    "tegalsiwalan",
    "tiris",
    "tongas",
    "wonomerto",
)

# ---------------------------------------------------------------------------
# Keyword table: category -> list of (phrase, weight).
# Phrases are written in normalised form (after ``normalize``): lowercase,
# Indonesian spelling. "a ~ b" = b within NEAR_GAP words after a.
# ---------------------------------------------------------------------------
KEYWORDS: dict[str, list[tuple[str, float]]] = {
    "infrastruktur": [
        # roads
        ("jalan", 2.5),
        ("jalan rusak", 4.0),
        ("jalan ~ rusak", 3.0),
        ("jalan ~ berlubang", 3.0),
        ("jalan ~ bolong", 3.0),
        ("jalan desa", 3.0),
        ("jalan poros", 3.5),
        ("jalan raya", 2.5),
        ("jalan kabupaten", 3.5),
        ("jalan tembus", 4.0),
        ("jalan usaha tani", 5.0),
        ("akses jalan", 2.0),
        ("ruas jalan", 3.0),
        ("aspal", 3.0),
        ("diaspal", 3.5),
        ("pengaspalan", 4.0),
        ("hotmix", 3.5),
        ("makadam", 3.5),
        ("paving", 3.5),
        ("rabat beton", 4.0),
        ("berlubang", 2.0),
        ("lubang", 1.5),
        ("bolong", 2.0),
        ("gang", 1.0),
        ("becek", 1.0),
        ("rusak parah", 1.0),
        ("ambrol", 1.5),
        ("ambruk", 1.0),
        ("jebol", 1.5),
        ("kendaraan tidak bisa lewat", 2.5),
        ("tidak bisa dilewati", 2.5),
        # bridges, culverts, retaining walls
        ("jembatan", 4.0),
        ("jembatan gantung", 5.0),
        ("jembatan ~ putus", 2.0),
        ("gorong", 4.0),
        ("box culvert", 4.0),
        ("plengsengan", 4.5),
        ("talud", 4.5),
        ("tembok penahan tanah", 4.5),
        # water: irrigation, drainage, clean-water pipes
        ("irigasi", 3.5),
        ("saluran irigasi", 4.5),
        ("saluran", 2.0),
        ("saluran air", 3.0),
        ("drainase", 4.5),
        ("embung", 4.0),
        ("bendungan", 3.0),
        ("dam", 1.5),
        ("pipa", 3.0),
        ("pipa air", 4.0),
        ("hippam", 4.5),
        ("pdam", 4.5),
        ("sumur bor", 3.5),
        ("pompa", 2.0),
        ("air bersih", 1.5),
        ("tandon", 2.5),
        ("bocor", 1.0),
        # electricity and lighting
        ("pju", 4.5),
        ("lampu jalan", 4.5),
        ("penerangan jalan", 5.0),
        ("lampu penerangan", 4.0),
        ("tiang listrik", 4.5),
        ("listrik", 3.0),
        ("pln", 2.5),
        ("kabel", 1.5),
        # telecom
        ("sinyal", 3.0),
        ("bts", 4.0),
        ("tower", 2.0),
        ("jaringan internet", 3.0),
        ("infrastruktur", 4.0),
        ("dinas pu", 4.0),
        ("pupr", 4.0),
    ],
    "pelayanan_publik": [
        ("ktp", 4.0),
        ("kk", 2.0),
        ("kartu keluarga", 4.5),
        ("akta", 3.5),
        ("akta kelahiran", 5.0),
        ("akta kematian", 5.0),
        ("surat kematian", 3.0),
        ("kia", 2.5),
        ("kartu identitas anak", 5.0),
        ("dispendukcapil", 5.0),
        ("disdukcapil", 5.0),
        ("dukcapil", 5.0),
        ("capil", 4.0),
        ("kependudukan", 4.0),
        ("adminduk", 5.0),
        ("nik", 3.0),
        ("rekam", 2.0),
        ("perekaman", 3.0),
        ("blangko", 3.0),
        ("cetak", 1.0),
        ("dicetak", 1.5),
        ("administrasi", 2.5),
        ("surat", 1.0),
        ("surat keterangan", 2.0),
        ("surat pindah", 3.0),
        ("pindah domisili", 3.5),
        ("domisili", 2.0),
        ("legalisir", 2.5),
        ("antrian", 2.0),
        ("nomor antrian", 3.0),
        ("pelayanan", 1.5),
        ("layanan", 1.0),
        ("pelayanan lambat", 3.0),
        ("pelayanan publik", 4.0),
        ("mal pelayanan", 4.0),
        ("mpp", 3.0),
        ("loket", 2.5),
        ("petugas loket", 3.0),
        ("server", 2.0),
        ("aplikasi", 1.0),
        ("online", 1.0),
        ("berkas", 1.0),
        ("syarat", 1.0),
        ("persyaratan", 1.0),
        ("prosedur", 1.0),
        ("birokrasi", 3.0),
        ("berbelit", 1.5),
        ("bolak balik", 1.5),
        ("calo", 3.5),
        ("pungli", 2.0),
        ("jemput bola", 2.5),
        ("layanan keliling", 3.0),
        # licensing / permits
        ("perizinan", 4.5),
        ("izin", 2.5),
        ("izin usaha", 4.0),
        ("nib", 3.5),
        ("oss", 3.5),
        ("pbg", 3.5),
        ("imb", 3.5),
        ("dpmptsp", 5.0),
        # land, tax
        ("sertifikat tanah", 3.5),
        ("ptsl", 4.0),
        ("bpn", 3.5),
        ("pajak", 2.5),
        ("pbb", 3.0),
        ("bapenda", 4.0),
        ("samsat", 3.5),
    ],
    "kesehatan": [
        ("stunting", 5.0),
        ("gizi", 3.5),
        ("gizi buruk", 5.0),
        ("kurang gizi", 5.0),
        ("balita", 2.5),
        ("berat badan", 2.0),
        ("pmt", 4.0),
        ("makanan tambahan", 4.0),
        ("posyandu", 4.5),
        ("puskesmas", 4.5),
        ("pustu", 4.5),
        ("puskesmas pembantu", 5.0),
        ("polindes", 4.5),
        ("poskesdes", 4.5),
        ("bidan", 4.0),
        ("bidan desa", 5.0),
        ("perawat", 3.0),
        ("dokter", 3.5),
        ("nakes", 4.0),
        ("tenaga kesehatan", 5.0),
        ("kader", 1.0),
        ("ambulans", 4.5),
        ("demam berdarah", 5.0),
        ("dbd", 5.0),
        ("db", 2.0),
        ("fogging", 4.5),
        ("abate", 4.0),
        ("nyamuk", 2.5),
        ("demam", 2.0),
        ("panas tinggi", 2.5),
        ("imunisasi", 4.5),
        ("vaksin", 2.0),
        ("ibu hamil", 4.5),
        ("hamil", 2.5),
        ("melahirkan", 3.0),
        ("persalinan", 3.5),
        ("bpjs", 2.5),
        ("bpjs kesehatan", 5.0),
        ("kis", 2.5),
        ("jkn", 3.5),
        ("rumah sakit", 4.0),
        ("rs", 2.0),
        ("rsud", 4.5),
        ("pasien", 3.5),
        ("berobat", 3.5),
        ("obat", 2.0),
        ("apotek", 2.5),
        ("sakit", 2.0),
        ("dirawat", 2.0),
        ("periksa", 1.0),
        ("pemeriksaan kesehatan", 4.0),
        ("kesehatan", 3.0),
        ("dinas kesehatan", 5.0),
        ("dinkes", 5.0),
        ("jamban", 3.5),
        ("jamban sehat", 5.0),
        ("bab", 2.0),
        ("buang air besar", 3.0),
        ("sanitasi", 2.0),
        ("diare", 4.0),
        ("wabah", 3.0),
        ("tbc", 4.5),
        ("kusta", 4.5),
        ("campak", 4.5),
        ("hiv", 4.5),
        ("hipertensi", 3.5),
        ("anemia", 3.5),
        ("tablet tambah darah", 5.0),
        ("odgj", 4.5),
        ("gangguan jiwa", 4.5),
        ("dipasung", 3.0),
    ],
    "pendidikan": [
        ("sekolah", 3.0),
        ("anak sekolah", 1.0),
        ("putus sekolah", 5.0),
        ("sd", 3.0),
        ("sdn", 4.0),
        ("smp", 3.0),
        ("smpn", 4.0),
        ("sma", 3.0),
        ("sman", 4.0),
        ("smk", 3.0),
        ("mi", 1.5),
        ("mts", 3.0),
        ("madrasah", 3.5),
        ("diniyah", 3.5),
        ("madin", 3.5),
        ("paud", 4.5),
        ("tk", 3.0),
        ("guru", 3.5),
        ("guru honorer", 5.0),
        ("murid", 3.5),
        ("siswa", 3.5),
        ("pelajar", 2.5),
        ("ruang kelas", 5.0),
        ("kelas", 1.5),
        ("belajar", 2.0),
        ("mengajar", 3.0),
        ("pendidikan", 3.5),
        ("beasiswa", 5.0),
        ("pip", 3.5),
        ("kip", 3.5),
        ("dana bos", 4.0),
        ("buku pelajaran", 4.0),
        ("buku bacaan", 3.0),
        ("buku", 1.0),
        ("perpustakaan", 3.5),
        ("ijazah", 3.5),
        ("paket c", 4.0),
        ("kejar paket", 4.5),
        ("ujian", 2.0),
        ("anbk", 4.5),
        ("kuliah", 3.0),
        ("antar jemput sekolah", 3.0),
    ],
    "sosial": [
        ("miskin", 3.0),
        ("warga miskin", 3.5),
        ("keluarga miskin", 4.0),
        ("kemiskinan", 4.0),
        ("tidak mampu", 3.0),
        ("bansos", 5.0),
        ("bantuan sosial", 5.0),
        ("pkh", 5.0),
        ("bpnt", 5.0),
        ("blt", 4.5),
        ("dtks", 5.0),
        ("dtsen", 5.0),
        ("kks", 4.5),
        ("kpm", 4.0),
        ("sembako", 3.5),
        ("rtlh", 6.0),
        ("rumah tidak layak huni", 6.0),
        ("bedah rumah", 5.5),
        ("rehab rumah", 4.5),
        ("berlantai tanah", 4.0),
        ("dinding bambu", 3.0),
        ("gedek", 3.0),
        ("lansia", 2.5),
        ("jompo", 3.5),
        ("sebatang kara", 3.5),
        ("disabilitas", 5.0),
        ("difabel", 5.0),
        ("kursi roda", 4.5),
        ("tuna rungu", 4.0),
        ("tuna netra", 4.0),
        ("tuna wicara", 4.0),
        ("alat bantu dengar", 4.5),
        ("janda", 3.0),
        ("yatim", 4.0),
        ("piatu", 3.5),
        ("terlantar", 4.0),
        ("gelandangan", 4.0),
        ("pengemis", 3.5),
        ("dinsos", 5.0),
        ("dinas sosial", 5.0),
        ("kemensos", 4.5),
        ("santunan", 4.0),
        ("tepat sasaran", 3.5),
        ("penerima bantuan", 3.0),
        ("dicoret", 2.0),
        ("pendamping pkh", 4.0),
        ("korban kebakaran", 3.0),
    ],
    "ekonomi": [
        # agriculture
        ("petani", 3.5),
        ("tani", 2.0),
        ("pertanian", 3.5),
        ("kelompok tani", 4.5),
        ("poktan", 4.5),
        ("gapoktan", 4.5),
        ("pupuk", 4.5),
        ("pupuk subsidi", 5.0),
        ("bibit", 2.5),
        ("benih", 3.0),
        ("panen", 2.0),
        ("hasil panen", 2.5),
        ("musim tanam", 3.0),
        ("sawah", 1.5),
        ("padi", 2.5),
        ("gabah", 4.0),
        ("jagung", 3.0),
        ("tembakau", 4.5),
        ("bawang merah", 4.5),
        ("mangga", 3.0),
        ("kentang", 2.5),
        ("kubis", 2.5),
        ("sayur", 1.0),
        ("hama", 3.5),
        ("pestisida", 3.5),
        ("alsintan", 4.5),
        ("traktor", 3.5),
        ("bulog", 4.0),
        ("kios", 2.0),
        # prices
        ("harga", 2.0),
        ("anjlok", 2.5),
        ("harga ~ anjlok", 3.0),
        ("harga ~ turun", 3.0),
        ("harga ~ jatuh", 3.0),
        ("harga jual", 3.0),
        ("cold storage", 4.0),
        # livestock and fisheries
        ("ternak", 3.5),
        ("peternak", 3.5),
        ("sapi", 2.5),
        ("kambing", 2.5),
        ("ayam", 1.5),
        ("kandang", 2.0),
        ("inseminasi", 4.5),
        ("nelayan", 4.5),
        ("melaut", 4.0),
        ("perahu", 3.0),
        ("kapal", 2.0),
        ("jaring", 2.0),
        ("alat tangkap", 3.5),
        ("tambak", 2.0),
        ("solar", 2.0),
        # business, markets, jobs
        ("umkm", 5.0),
        ("ukm", 4.5),
        ("usaha", 2.0),
        ("modal", 3.0),
        ("modal usaha", 5.0),
        ("pelatihan", 2.0),
        ("pelatihan usaha", 5.0),
        ("keterampilan", 2.5),
        ("pemasaran", 3.5),
        ("promosi", 2.0),
        ("pasar", 2.0),
        ("pasar desa", 4.5),
        ("pedagang", 3.0),
        ("bumdes", 5.0),
        ("koperasi", 4.0),
        ("kredit", 3.0),
        ("pinjaman", 3.0),
        ("rentenir", 4.0),
        ("bank titil", 4.0),
        ("menganggur", 4.0),
        ("pengangguran", 4.0),
        ("lapangan kerja", 4.0),
        ("latihan kerja", 4.0),
        ("blk", 4.0),
        ("wisata", 3.0),
        ("pariwisata", 3.5),
        ("pengrajin", 3.5),
        ("kerajinan", 3.5),
        ("ekonomi", 3.5),
    ],
    "lingkungan": [
        ("banjir", 5.0),
        ("banjir bandang", 6.0),
        ("rob", 3.0),
        ("meluap", 4.0),
        ("sungai ~ meluap", 2.0),
        ("terendam", 3.0),
        ("genangan", 2.0),
        ("longsor", 4.5),
        ("tanah longsor", 5.5),
        ("tanah gerak", 5.5),
        ("kekeringan", 5.5),
        ("kemarau", 3.0),
        ("krisis air", 4.5),
        ("dropping air", 5.0),
        ("sampah", 4.5),
        ("bank sampah", 5.0),
        ("tps", 3.0),
        ("tpa", 3.0),
        ("pencemaran", 5.0),
        ("tercemar", 3.0),
        ("mencemari", 4.5),
        ("limbah", 4.5),
        ("polusi", 4.5),
        ("debu", 2.0),
        ("bau", 2.0),
        ("bau ~ menyengat", 4.0),
        ("kotor", 2.0),
        ("tempat pembuangan sampah", 5.0),
        ("abu vulkanik", 6.0),
        ("vulkanik", 4.5),
        ("hujan abu", 5.5),
        ("erupsi", 5.5),
        ("bromo", 2.0),
        ("puting beliung", 6.0),
        ("angin kencang", 4.5),
        ("kebakaran hutan", 6.0),
        ("kebakaran lahan", 6.0),
        ("hutan", 2.0),
        ("penebangan liar", 5.5),
        ("pembalakan", 5.5),
        ("abrasi", 5.5),
        ("normalisasi sungai", 4.0),
        ("sedimen", 2.5),
        ("sungai", 1.5),
        ("lingkungan", 3.0),
        ("bencana", 4.0),
        ("bpbd", 4.5),
        ("penghijauan", 4.5),
        ("reboisasi", 4.5),
        ("lahan kritis", 4.5),
        ("tambang ilegal", 5.0),
        ("tambang pasir", 4.5),
        ("galian c", 4.5),
        ("gempa", 4.5),
        ("pohon tumbang", 4.0),
    ],
    "kinerja_kecamatan": [
        ("camat", 5.0),
        ("pak camat", 6.0),
        ("sekcam", 5.0),
        ("kecamatan", 2.0),  # place names after it are excluded (see below)
        ("kantor kecamatan", 5.0),
        ("pegawai kecamatan", 6.0),
        ("staf kecamatan", 6.0),
        ("petugas kecamatan", 6.0),
        ("pihak kecamatan", 5.0),
        ("rekomendasi kecamatan", 6.0),
        ("rekomendasi ~ kecamatan", 4.0),
        ("kecamatan ~ minta", 3.0),
        ("kasi pemerintahan", 3.0),
        ("paten", 3.0),
        ("evaluasi apbdes", 3.0),
        ("monev", 2.0),
    ],
    "lainnya": [
        ("masjid", 3.0),
        ("musholla", 3.0),
        ("langgar", 2.5),
        ("pengajian", 3.0),
        ("haul", 3.0),
        ("hadrah", 3.0),
        ("pencurian", 4.0),
        ("maling", 4.0),
        ("curanmor", 4.5),
        ("keamanan", 3.0),
        ("patroli", 3.0),
        ("polisi", 2.0),
        ("narkoba", 4.5),
        ("siltap", 5.0),
        ("penghasilan tetap", 4.5),
        ("perangkat desa", 2.0),
        ("pilkades", 5.0),
        ("bpd", 3.0),
        ("karang taruna", 4.0),
        ("olahraga", 3.0),
        ("sepak bola", 3.0),
        ("kesenian", 3.0),
        ("gamelan", 3.0),
        ("sanggar", 3.0),
        ("sengketa", 3.0),
        ("batas desa", 4.0),
        ("tapal batas", 4.0),
        ("tanah kas desa", 4.0),
        ("ormas", 3.0),
        ("baliho", 3.0),
        ("silaturahmi", 3.0),
        ("berkunjung", 2.0),
        ("kunjungan", 2.0),
        ("terima kasih", 2.0),
        ("undangan", 2.0),
        ("kendaraan operasional", 3.0),
    ],
}

# Words signalling misconduct or poor service; combined with a camat /
# kecamatan-office mention they trigger KECAMATAN_MISCONDUCT_BONUS.
KECAMATAN_MISCONDUCT_CUES: tuple[str, ...] = (
    "minta uang",
    "meminta uang",
    "uang rokok",
    "uang transport",
    "uang pelicin",
    "pelicin",
    "pungli",
    "pungutan",
    "setoran",
    "fee",
    "biaya",
    "bayar",
    "lambat",
    "lama",
    "berbelit",
    "dipersulit",
    "mempersulit",
    "tidak ada di tempat",
    "jarang",
    "tidak pernah",
    "tutup",
    "kasar",
    "tidak ramah",
    "kurang ramah",
    "pilih kasih",
    "tidak bisa dihubungi",
    "formalitas",
    "tidak berjalan",
    "menumpuk",
    "hilang",
)

# Single-token aliases: abbreviations, spelling variants, Javanese/Madurese.
TOKEN_ALIASES: dict[str, str] = {
    # abbreviations / chat spelling
    "jln": "jalan",
    "jl": "jalan",
    "jaln": "jalan",
    "jalanan": "jalan",
    "ds": "desa",
    "dsn": "dusun",
    "kec": "kecamatan",
    "kab": "kabupaten",
    "kades": "kepala desa",
    "yg": "yang",
    "tdk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "ndak": "tidak",
    "blm": "belum",
    "sdh": "sudah",
    "udh": "sudah",
    "udah": "sudah",
    "sy": "saya",
    "sm": "sama",
    "krn": "karena",
    "dgn": "dengan",
    "dg": "dengan",
    "utk": "untuk",
    "untk": "untuk",
    "bgt": "banget",
    "th": "tahun",
    "thn": "tahun",
    "bln": "bulan",
    "pdhl": "padahal",
    "tlg": "tolong",
    "mhn": "mohon",
    "bpk": "bapak",
    "pkm": "puskesmas",
    "ektp": "ktp",
    "ktpel": "ktp",
    "antri": "antrian",
    "antre": "antrian",
    "antrean": "antrian",
    "blanko": "blangko",
    "ambulan": "ambulans",
    "ambulance": "ambulans",
    "macadam": "makadam",
    "makadham": "makadam",
    "pavingisasi": "paving",
    "plengseng": "plengsengan",
    "talut": "talud",
    "drenase": "drainase",
    "bumdesa": "bumdes",
    "mushola": "musholla",
    "musala": "musholla",
    "mushalla": "musholla",
    "akte": "akta",
    "ijin": "izin",
    # Javanese
    "dalan": "jalan",
    "dalane": "jalan",
    "embong": "jalan",
    "kreteg": "jembatan",
    "kretek": "jembatan",
    "banyu": "air",
    "banyune": "air",
    "udan": "hujan",
    "omah": "rumah",
    "omahe": "rumah",
    "griyo": "rumah",
    "griya": "rumah",
    "sekolahan": "sekolah",
    "bocah": "anak",
    "watu": "batu",
    "wong": "orang",
    "pring": "bambu",
    "nyuwun": "mohon",
    "duwit": "uang",
    "wis": "sudah",
    # Madurese
    "jhalan": "jalan",
    "lorong": "jalan",
    "lare": "anak",
    "sakola": "sekolah",
    "sakolah": "sekolah",
    "sakolaan": "sekolah",
    "asakola": "sekolah",
    "asakolaa": "sekolah",
    "sabin": "sawah",
    "sabah": "sawah",
    "tane": "tani",
    "petane": "petani",
    "aeng": "air",
    "bengko": "rumah",
    "pesse": "uang",
    "sakek": "sakit",
    "sake": "sakit",
    "kaule": "saya",
}

# Multi-word rewrites applied after token aliasing (left side normalised).
PHRASE_ALIASES: tuple[tuple[str, str], ...] = (
    ("jalan kaki", "berjalan kaki"),  # walking, not a road
    ("tiyang sepuh", "lansia"),
    ("e ktp", "ktp"),
    ("ktp el", "ktp"),
    ("ktp elektronik", "ktp"),
    ("kartu tanda penduduk", "ktp"),
    ("penerangan jalan umum", "penerangan jalan"),
    ("lampu pju", "pju"),
    ("badan usaha milik desa", "bumdes"),
    ("demam berdarah dengue", "demam berdarah"),
    ("tunarungu", "tuna rungu"),
    ("tunanetra", "tuna netra"),
    ("mall pelayanan", "mal pelayanan"),
)

# Words that, placed before "kali", make it mean "times" rather than "river".
_KALI_TIMES_PREV = frozenset(
    {"beberapa", "berapa", "satu", "dua", "tiga", "empat", "lima", "sepuluh", "berkali", "banyak", "sekian"}
)

_SUFFIX = r"(?:nya|ne|na|an|e)?"
_MIN_SUFFIX_LEN = 4

# Regexes used by ``normalize``.
_APOSTROPHES = re.compile(r"[’'`´]")
_REDUP_DIGIT = re.compile(r"([a-z]{2,})2(?![0-9])")
_HOUSEHOLDS = re.compile(r"\b(\d+)\s*kk\b")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_STRETCHED = re.compile(r"([a-z])\1{2,}")


def _compile_phrase(phrase: str, near_gap: int | None = None) -> re.Pattern[str]:
    """Compile a normalised phrase into a word-bounded regex; ``~`` allows up to ``near_gap`` words between."""
    parts = []
    for chunk in phrase.split("~"):
        words = chunk.split()
        pieces = [re.escape(w) + (_SUFFIX if len(w) >= _MIN_SUFFIX_LEN else "") for w in words]
        parts.append(r"\s+".join(pieces))
    gap = rf"(?:\s+\S+){{0,{NEAR_GAP if near_gap is None else near_gap}}}\s+"
    body = gap.join(parts)
    tail = ""
    if phrase == "kecamatan":
        # "kecamatan Tiris" names a place; do not read it as the office.
        tail = r"(?!\s+(?:" + "|".join(KECAMATAN_NAMES) + r")\b)"
    return re.compile(r"(?<![a-z0-9])" + body + r"(?![a-z0-9])" + tail)


def _compile_alias(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


def _needles(phrase: str) -> tuple[str, ...]:
    """The words a text must contain (as substrings) for the phrase's regex to match: a cheap test that skips most
    of the ~500 regexes for a given text without changing what matches."""
    return tuple(w for w in phrase.replace("~", " ").split())


# (pattern, weight, owns_words, needles): only contiguous multi-word phrases own words.
_COMPILED: dict[str, tuple[tuple[re.Pattern[str], float, bool, tuple[str, ...]], ...]] = {
    cat: tuple((_compile_phrase(p), float(w), "~" not in p and len(p.split()) > 1, _needles(p))
               for p, w in KEYWORDS.get(cat, ()))
    for cat in CATEGORIES
}
_PHRASE_ALIAS_RES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (_compile_alias(src), dst) for src, dst in PHRASE_ALIASES
)
_KEC_INSTITUTION = tuple(
    _compile_phrase(p)
    for p in ("camat", "sekcam", "kecamatan", "kantor kecamatan", "pegawai kecamatan", "staf kecamatan")
)
_KEC_CUES = tuple(_compile_phrase(p) for p in KECAMATAN_MISCONDUCT_CUES)
_ROAD_DAMAGE = tuple(_compile_phrase(p, near_gap=8) for p in ROAD_DAMAGE_PHRASES)
_TIE_RANK = {cat: i for i, cat in enumerate(TIE_BREAK_ORDER)}


def normalize(text: str | None) -> str:
    """Return a lowercase, punctuation-free, alias-mapped version of *text*."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = _APOSTROPHES.sub("", s)  # Madurese glottal stop: "ta'" -> "ta"
    s = _REDUP_DIGIT.sub(r"\1", s)  # "bolong2" -> "bolong"
    s = _HOUSEHOLDS.sub(r"\1 keluarga", s)  # "50 KK" = households, not Kartu Keluarga
    s = _NON_ALNUM.sub(" ", s)
    s = _STRETCHED.sub(r"\1", s)  # "rusaaak" -> "rusak"

    tokens: list[str] = []
    for tok in s.split():
        if tok == "kali":
            prev = tokens[-1] if tokens else ""
            if not (prev.isdigit() or prev in _KALI_TIMES_PREV):
                tok = "sungai"  # Javanese/Indonesian "kali" = river
        else:
            tok = TOKEN_ALIASES.get(tok, tok)
        for sub in tok.split():
            if tokens and tokens[-1] == sub:
                continue  # reduplication "gang gang" -> "gang"
            tokens.append(sub)
    s = " ".join(tokens)
    for pattern, replacement in _PHRASE_ALIAS_RES:
        s = pattern.sub(replacement, s)
    return s


def score_categories(text: str | None) -> dict[str, float]:
    """Score every category for *text*; a higher score is a stronger match.

    Returns a dict with all nine category codes (including ``lainnya``) as keys.
    """
    norm = normalize(text)
    scores = dict.fromkeys(CATEGORIES, 0.0)
    if not norm:
        return scores
    # Collect every match first, then drop those swallowed by another
    # category's longer contiguous phrase.
    found: list[tuple[str, float, list[tuple[int, int]]]] = []
    owners: list[tuple[str, int, int]] = []
    for cat, patterns in _COMPILED.items():
        for pattern, weight, owns, needles in patterns:
            if not all(needle in norm for needle in needles):
                continue
            spans = [m.span() for m in pattern.finditer(norm)]
            if not spans:
                continue
            found.append((cat, weight, spans))
            if owns:
                owners.extend((cat, a, b) for a, b in spans)
    for cat, weight, spans in found:
        free = [
            (a, b)
            for a, b in spans
            if not any(o_cat != cat and o_a <= a and b <= o_b and (o_b - o_a) > (b - a) for o_cat, o_a, o_b in owners)
        ]
        if free:
            scores[cat] += weight * (1.0 + (REPEAT_BONUS if len(free) > 1 else 0.0))
    if any(p.search(norm) for p in _KEC_INSTITUTION) and any(p.search(norm) for p in _KEC_CUES):
        scores["kinerja_kecamatan"] += KECAMATAN_MISCONDUCT_BONUS
    if any(p.search(norm) for p in _ROAD_DAMAGE):
        scores["infrastruktur"] += ROAD_DAMAGE_BONUS
    return {cat: round(val, 3) for cat, val in scores.items()}


def suggest_category(text: str | None) -> str:
    """Suggest one category code for an aspiration description.

    Returns ``lainnya`` when no category reaches ``MIN_SCORE``.
    """
    scores = score_categories(text)
    best = min(CATEGORIES, key=lambda cat: (-scores[cat], _TIE_RANK[cat]))
    if scores[best] < MIN_SCORE:
        return FALLBACK
    return best
