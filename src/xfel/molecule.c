/* Molecules: PDB files and the built-in coarse-grained EF2-like model. */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "a4nn/xfel.h"

void a4nn_molecule_free(a4nn_molecule *m)
{
    free(m->xyz);
    free(m->type);
    memset(m, 0, sizeof *m);
}

static void centre(a4nn_molecule *m)
{
    double c[3] = {0, 0, 0};
    for (int i = 0; i < m->n; i++)
        for (int k = 0; k < 3; k++)
            c[k] += m->xyz[3 * i + k];
    for (int i = 0; i < m->n; i++)
        for (int k = 0; k < 3; k++)
            m->xyz[3 * i + k] -= (float)(c[k] / m->n);
}

double a4nn_molecule_rg(const a4nn_molecule *m)
{
    double c[3] = {0, 0, 0}, s = 0;
    for (int i = 0; i < m->n; i++)
        for (int k = 0; k < 3; k++)
            c[k] += m->xyz[3 * i + k] / m->n;
    for (int i = 0; i < m->n; i++)
        for (int k = 0; k < 3; k++) {
            double d = m->xyz[3 * i + k] - c[k];
            s += d * d;
        }
    return sqrt(s / m->n);
}

static int element_type(const char *e)
{
    static const char *names[] = {"H", "C", "N", "O", "S", "P", "FE"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(e, names[i]))
            return i;
    return -1;
}

int a4nn_molecule_read_pdb(const char *path, a4nn_molecule *m, a4nn_error *err)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "r");
    if (!f)
        return a4nn_errorf(err, "cannot open PDB file %s", path);
    char line[256];
    int cap = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "ATOM  ", 6) && strncmp(line, "HETATM", 6))
            continue;
        size_t len = strlen(line);
        if (len < 54) {
            fclose(f);
            a4nn_molecule_free(m);
            return a4nn_errorf(err, "%s:%d: ATOM record too short for coordinates", path, lineno);
        }
        char num[3][9];
        double xyz[3];
        for (int k = 0; k < 3; k++) {
            memcpy(num[k], line + 30 + 8 * k, 8);
            num[k][8] = '\0';
            char *end;
            xyz[k] = strtod(num[k], &end);
            while (*end == ' ')
                end++;
            if (end == num[k] || *end) {
                fclose(f);
                a4nn_molecule_free(m);
                return a4nn_errorf(err, "%s:%d: bad coordinate '%s'", path, lineno, num[k]);
            }
        }
        char el[3] = {0};
        if (len >= 78 && (isalpha((unsigned char)line[76]) || isalpha((unsigned char)line[77]))) {
            int k = 0;
            for (int c = 76; c < 78; c++)
                if (isalpha((unsigned char)line[c]))
                    el[k++] = (char)toupper((unsigned char)line[c]);
        } else { /* atom name, columns 13-16: the element leads it */
            int c = 12;
            while (c < 16 && !isalpha((unsigned char)line[c]))
                c++;
            el[0] = (char)toupper((unsigned char)line[c]);
            if (el[0] == 'F' && toupper((unsigned char)line[c + 1]) == 'E')
                el[1] = 'E';
        }
        int t = element_type(el);
        if (t < 0) {
            fclose(f);
            a4nn_molecule_free(m);
            return a4nn_errorf(err, "%s:%d: element '%s' has no form factor here (H, C, N, O, "
                                    "S, P, Fe)",
                               path, lineno, el);
        }
        if (m->n == cap) {
            cap = cap ? 2 * cap : 1024;
            m->xyz = a4nn_realloc(m->xyz, sizeof(float) * 3 * (size_t)cap);
            m->type = a4nn_realloc(m->type, (size_t)cap);
        }
        for (int k = 0; k < 3; k++)
            m->xyz[3 * m->n + k] = (float)xyz[k];
        m->type[m->n++] = (uint8_t)t;
    }
    fclose(f);
    if (m->n == 0)
        return a4nn_errorf(err, "%s: no ATOM or HETATM records", path);
    centre(m);
    return A4NN_OK;
}

/* The built-in model (docs/xfelsim.md). Five domains of yeast EF2's sizes
 * (I with G' 345, II 136, III 77, IV 208, V 74 residues) fill ellipsoids of
 * 150 A^3 per residue, packed side by side like EF-G's 118 x 60 x 50 A body,
 * IV the protruding arm. The chain grows through them in steps of 3.8 A,
 * each residue at least MIN_CONTACT from all others and 5.3 A from the one
 * two back (a virtual bond angle above 88 degrees), choosing among random
 * steps the one with most neighbours plus noise (compact, not collapsed), and
 * heading for the contact with the next domain as its residues run out. */
#define N_RES 840
#define MIN_CONTACT 4.0
#define STEP 3.8
#define HINGE_FIRST 481 /* domains III, IV and V: residues 481 .. 839 */

static const struct {
    int n;
    double aspect[3], centre[3];
} DOMAIN[5] = {
    {345, {1.25, 1.0, 0.9}, {0, 0, 0}},    {136, {1, 1, 1}, {-4, 19, -35}},
    {77, {1, 1, 1}, {28, 28, -27}},        {208, {1.9, 0.85, 0.85}, {52, 26, 6}},
    {74, {1, 1, 1}, {27, 14, 33}},
};

static double dist2(const double *a, const double *b)
{
    double s = 0;
    for (int k = 0; k < 3; k++)
        s += (a[k] - b[k]) * (a[k] - b[k]);
    return s;
}

/* Grows the chain from one seed; 0 if it got stuck (then another seed). */
static int grow_chain(uint64_t seed, double (*xyz)[3], int *domain_of)
{
    double axis[5][3];
    for (int d = 0; d < 5; d++) {
        const double *a = DOMAIN[d].aspect;
        double s = cbrt(3 * 150.0 * DOMAIN[d].n / (4 * M_PI * a[0] * a[1] * a[2]));
        for (int k = 0; k < 3; k++)
            axis[d][k] = s * a[k];
    }
    a4nn_rng rng;
    a4nn_rng_seed(&rng, seed);
    int n = 0, streak = 0;
    for (long iter = 0; n < N_RES; iter++) {
        if (iter > 400000)
            return 0;
        int d = 0, first = 0;
        while (n >= first + DOMAIN[d].n)
            first += DOMAIN[d++].n;
        const int left = first + DOMAIN[d].n - 1 - n; /* residues after this one here */
        double exit[3] = {0, 0, 0}; /* the surface point facing the next domain */
        if (d < 4) {
            double v[3], e = 0;
            for (int k = 0; k < 3; k++) {
                v[k] = DOMAIN[d + 1].centre[k] - DOMAIN[d].centre[k];
                e += (v[k] / axis[d][k]) * (v[k] / axis[d][k]);
            }
            for (int k = 0; k < 3; k++)
                exit[k] = DOMAIN[d].centre[k] + v[k] / sqrt(e);
        }
        double best[3], best_score = -1e30;
        int found = 0;
        for (int t = 0; t < 100; t++) {
            double p[3];
            if (n == 0) {
                for (int k = 0; k < 3; k++)
                    p[k] = DOMAIN[0].centre[k] + (a4nn_rng_uniform(&rng) - 0.5) * 10;
            } else {
                double u = 2 * a4nn_rng_uniform(&rng) - 1, phi = 2 * M_PI * a4nn_rng_uniform(&rng);
                double s = sqrt(1 - u * u);
                p[0] = xyz[n - 1][0] + STEP * s * cos(phi);
                p[1] = xyz[n - 1][1] + STEP * s * sin(phi);
                p[2] = xyz[n - 1][2] + STEP * u;
            }
            double e = 0;
            for (int k = 0; k < 3; k++)
                e += ((p[k] - DOMAIN[d].centre[k]) / axis[d][k]) *
                     ((p[k] - DOMAIN[d].centre[k]) / axis[d][k]);
            if (e > 1.0 && !(n < first + 4 && e < 2.0)) /* a domain's first residues bridge */
                continue;
            if (d < 4 && sqrt(dist2(p, exit)) > STEP * 0.9 * left + 3)
                continue;
            if (n >= 2 && dist2(p, xyz[n - 2]) < 5.3 * 5.3)
                continue;
            int ok = 1, neighbours = 0;
            for (int j = 0; j < n - 1 && ok; j++) {
                double r2 = dist2(p, xyz[j]);
                if (r2 < MIN_CONTACT * MIN_CONTACT)
                    ok = 0;
                else if (r2 < 49 && domain_of[j] == d)
                    neighbours++;
            }
            if (!ok)
                continue;
            double score = 0.15 * neighbours + 3 * a4nn_rng_uniform(&rng);
            if (score > best_score) {
                best_score = score;
                memcpy(best, p, sizeof best);
                found = 1;
            }
        }
        if (!found) { /* stuck: step back, further each time in a row */
            streak++;
            n -= streak < 20 ? 1 + 2 * streak : 40;
            if (n < 1)
                n = 1;
            continue;
        }
        memcpy(xyz[n], best, sizeof best);
        domain_of[n++] = d;
        if (n % 20 == 0)
            streak = 0;
    }
    return 1;
}

/* The hinge: domains III-V turn as one rigid body about an axis through the
 * II-III junction (the first residue of III), perpendicular to the lines
 * from there to the centres of domain I and of domain IV: the arm (IV)
 * swings in the plane of those lines, towards domain I for positive angles.
 * Residue 481 is the pivot, so the chain stays unbroken. */
static void hinge_axis(double (*xyz)[3], double point[3], double axis[3])
{
    double to_i[3], to_iv[3] = {0, 0, 0}, ci[3] = {0, 0, 0};
    int niv = 0;
    for (int i = 0; i < 345; i++)
        for (int k = 0; k < 3; k++)
            ci[k] += xyz[i][k] / 345;
    for (int i = 558; i < 558 + 208; i++, niv++)
        for (int k = 0; k < 3; k++)
            to_iv[k] += xyz[i][k] / 208;
    for (int k = 0; k < 3; k++) {
        point[k] = xyz[HINGE_FIRST][k];
        to_i[k] = ci[k] - point[k];
        to_iv[k] -= point[k];
    }
    axis[0] = to_iv[1] * to_i[2] - to_iv[2] * to_i[1];
    axis[1] = to_iv[2] * to_i[0] - to_iv[0] * to_i[2];
    axis[2] = to_iv[0] * to_i[1] - to_iv[1] * to_i[0];
    double l = sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
    for (int k = 0; k < 3; k++)
        axis[k] /= l;
}

int a4nn_molecule_builtin(int conformation, double hinge_deg, a4nn_molecule *m, a4nn_error *err)
{
    if (conformation != 0 && conformation != 1)
        return a4nn_errorf(err, "conformation must be 0 or 1, not %d", conformation);
    double(*xyz)[3] = a4nn_malloc(sizeof(double) * 3 * N_RES);
    int *domain_of = a4nn_malloc(sizeof(int) * N_RES);
    uint64_t seed = 2;
    while (!grow_chain(seed, xyz, domain_of))
        seed++;
    free(domain_of);
    if (conformation == 1) { /* Rodrigues' rotation of residues 481.. */
        double p[3], a[3];
        hinge_axis(xyz, p, a);
        const double th = hinge_deg * M_PI / 180, c = cos(th), s = sin(th);
        for (int i = HINGE_FIRST; i < N_RES; i++) {
            double v[3] = {xyz[i][0] - p[0], xyz[i][1] - p[1], xyz[i][2] - p[2]};
            double dot = a[0] * v[0] + a[1] * v[1] + a[2] * v[2];
            double cr[3] = {a[1] * v[2] - a[2] * v[1], a[2] * v[0] - a[0] * v[2],
                            a[0] * v[1] - a[1] * v[0]};
            for (int k = 0; k < 3; k++)
                xyz[i][k] = p[k] + v[k] * c + cr[k] * s + a[k] * dot * (1 - c);
        }
        /* the turned block must not run into the fixed one */
        for (int i = HINGE_FIRST; i < N_RES; i++)
            for (int j = 0; j < HINGE_FIRST; j++)
                if (!(i == HINGE_FIRST && j == HINGE_FIRST - 1) && dist2(xyz[i], xyz[j]) < MIN_CONTACT * MIN_CONTACT) {
                    double r = sqrt(dist2(xyz[i], xyz[j]));
                    free(xyz);
                    return a4nn_errorf(err, "hinge %g degrees makes domains III-V run into "
                                            "I-II (residues %d and %d %.1f A apart)",
                                       hinge_deg, j, i, r);
                }
    }
    memset(m, 0, sizeof *m);
    m->n = N_RES;
    m->xyz = a4nn_malloc(sizeof(float) * 3 * N_RES);
    m->type = a4nn_malloc(N_RES);
    for (int i = 0; i < N_RES; i++) {
        for (int k = 0; k < 3; k++)
            m->xyz[3 * i + k] = (float)xyz[i][k];
        m->type[i] = A4NN_FF_RESIDUE;
    }
    free(xyz);
    centre(m);
    return A4NN_OK;
}
