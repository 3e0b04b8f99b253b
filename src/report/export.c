/* report: CSV and JSON exports of a run's data commons. */
#include "a4nn/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html_assets.h"

/* JSON string, with <, > and & escaped so the text can sit inside HTML. */
static void json_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", o); break;
        case '\\': fputs("\\\\", o); break;
        case '\n': fputs("\\n", o); break;
        case '\r': fputs("\\r", o); break;
        case '\t': fputs("\\t", o); break;
        case '<': fputs("\\u003c", o); break;
        case '>': fputs("\\u003e", o); break;
        case '&': fputs("\\u0026", o); break;
        default:
            if (*p < 0x20)
                fprintf(o, "\\u%04x", *p);
            else
                fputc(*p, o);
        }
    }
    fputc('"', o);
}

void a4nn_report_shortest(FILE *o, double v, const char *missing)
{
    if (!isfinite(v)) {
        fputs(missing, o);
        return;
    }
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, o);
}

static void json_num(FILE *o, double v)
{
    a4nn_report_shortest(o, v, "null");
}

#define JCOL(name, arr, n, expr)                                                                   \
    do {                                                                                           \
        fprintf(o, "\"%s\":[", name);                                                              \
        for (int i_ = 0; i_ < (n); i_++) {                                                         \
            if (i_)                                                                                \
                fputc(',', o);                                                                     \
            json_num(o, (double)(arr)[i_].expr);                                                   \
        }                                                                                          \
        fputc(']', o);                                                                             \
    } while (0)

static void json_summary(FILE *o, const a4nn_report_summary *s)
{
    fprintf(o, "{\"models\":%d,\"epochs_used\":%ld,\"epochs_budget\":%ld,\"saved_pct\":", s->models,
            s->epochs_used, s->epochs_budget);
    json_num(o, s->saved_pct);
    fputs(",\"seconds_used\":", o), json_num(o, s->seconds_used);
    fputs(",\"seconds_saved\":", o), json_num(o, s->seconds_saved);
    fputs(",\"best_accuracy\":", o), json_num(o, s->best_accuracy);
    fputs(",\"best_val\":", o), json_num(o, s->best_val);
    fprintf(o, ",\"front_size\":%d,\"hypervolume\":", s->front_size);
    json_num(o, s->hypervolume);
    fputs(",\"ref_mflops\":", o), json_num(o, s->ref_mflops);
    fprintf(o, ",\"workers\":%d,\"makespan\":", s->workers);
    json_num(o, s->makespan);
    fputs(",\"idle_fraction\":", o), json_num(o, s->idle_fraction);
    fputc('}', o);
}

/* Epochs trained when the prediction converged (counted as epochs_trained
 * is); NaN (written empty or null) when it never did. */
static double converged_after(const a4nn_report_model *m)
{
    return m->converged_epoch >= 0 ? m->converged_epoch + 1.0 : NAN;
}

static void json_model(FILE *o, const a4nn_report_model *m)
{
    fprintf(o, "{\"id\":%d,\"name\":", m->id);
    json_str(o, m->name);
    fputs(",\"genome\":", o), json_str(o, m->genome_text);
    fputs(",\"mflops\":", o), json_num(o, m->mflops);
    fprintf(o, ",\"params\":%ld,\"stop_reason\":", m->params);
    json_str(o, m->stop_reason);
    fprintf(o, ",\"worker\":%d,\"start_time\":", m->worker);
    json_num(o, m->start_time);
    fputs(",\"end_time\":", o), json_num(o, m->end_time);
    fputs(",\"fitness\":", o), json_num(o, m->fitness);
    fputs(",\"last_val_acc\":", o), json_num(o, m->last_val);
    fprintf(o, ",\"epochs_trained\":%d,\"converged_after\":", m->epochs_trained);
    json_num(o, converged_after(m));
    fputs(",\"train_seconds\":", o);
    json_num(o, m->train_seconds);
    fprintf(o, ",\"on_front\":%s,\"map\":[", m->on_front ? "true" : "false");
    json_num(o, m->map_x), fputc(',', o), json_num(o, m->map_y);
    fputs("],\"epochs\":{", o);
    JCOL("epoch", m->epochs, m->n_epochs, epoch); fputc(',', o);
    JCOL("train_acc", m->epochs, m->n_epochs, train_acc); fputc(',', o);
    JCOL("val_acc", m->epochs, m->n_epochs, val_acc); fputc(',', o);
    JCOL("loss", m->epochs, m->n_epochs, loss); fputc(',', o);
    JCOL("seconds", m->epochs, m->n_epochs, seconds);
    fputs("},\"predictions\":{", o);
    JCOL("epoch", m->preds, m->n_preds, epoch); fputc(',', o);
    JCOL("prediction", m->preds, m->n_preds, prediction); fputc(',', o);
    JCOL("uncertainty", m->preds, m->n_preds, uncertainty); fputc(',', o);
    JCOL("converged", m->preds, m->n_preds, converged);
    fputs("},\"neighbours\":[", o);
    for (int i = 0; i < m->n_nb; i++) {
        fprintf(o, "%s{\"id\":%d,\"similarity\":", i ? "," : "", m->nb[i].id);
        json_num(o, m->nb[i].similarity);
        fprintf(o, ",\"hamming\":%d,\"graph_edit\":%d,\"fitness\":", m->nb[i].hamming,
                m->nb[i].graph_edit);
        json_num(o, m->nb[i].fitness);
        fputc('}', o);
    }
    fputs("]}", o);
}

int a4nn_report_write_json(FILE *o, a4nn_report_run *const *runs, int n_runs, double ref_mflops,
                           a4nn_error *err)
{
    if (ref_mflops <= 0) { /* one reference for all runs, so hypervolumes compare */
        double mx = 0;
        for (int r = 0; r < n_runs; r++)
            for (int i = 0; i < runs[r]->n_models; i++)
                if (!isnan(runs[r]->models[i].mflops) && runs[r]->models[i].mflops > mx)
                    mx = runs[r]->models[i].mflops;
        ref_mflops = mx > 0 ? 1.1 * mx : 1.0;
    }
    fprintf(o, "{\"a4nn_version\":\"%s\",\"ref_mflops\":", A4NN_VERSION);
    json_num(o, ref_mflops);
    fputs(",\"runs\":[", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        a4nn_report_summary s;
        a4nn_report_summarize(run, ref_mflops, &s);
        fputs(r ? ",\n{\"name\":" : "\n{\"name\":", o);
        json_str(o, run->name);
        fputs(",\"dir\":", o), json_str(o, run->dir);
        fputs(",\"version\":", o), json_str(o, run->version);
        fprintf(o, ",\"seed\":%lld,\"budget\":%d,\"start_time\":", run->seed, run->budget);
        json_num(o, run->start_time);
        fputs(",\"config\":", o), json_str(o, run->config);
        fputs(",\"summary\":", o), json_summary(o, &s);
        fputs(",\"models\":[", o);
        for (int i = 0; i < run->n_models; i++) {
            fputs(i ? ",\n" : "\n", o);
            json_model(o, &run->models[i]);
        }
        fputs("]}", o);
    }
    fputs("]}\n", o);
    if (ferror(o))
        return a4nn_errorf(err, "writing JSON failed");
    return A4NN_OK;
}

static void csv_num(FILE *o, double v)
{
    a4nn_report_shortest(o, v, "");
}

/* Unix seconds as ISO-8601 UTC with milliseconds; empty when unknown. */
static void csv_time(FILE *o, double t)
{
    if (!isfinite(t))
        return;
    time_t whole = (time_t)floor(t);
    struct tm tmv;
    char buf[40];
    if (!gmtime_r(&whole, &tmv))
        return;
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tmv);
    fprintf(o, "%s.%03dZ", buf, (int)fmin(999, floor((t - floor(t)) * 1000)));
}

static void csv_str(FILE *o, const char *s)
{
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

/* The tracker's nearest architectures as one field (ends the row):
 * "id:similarity:hamming:graph_edit:fitness;..." */
static void csv_neighbours(FILE *o, const a4nn_report_model *m)
{
    fputc(',', o);
    for (int k = 0; k < m->n_nb; k++) {
        const a4nn_report_nb *b = &m->nb[k];
        fprintf(o, "%s%d:", k ? ";" : "", b->id);
        csv_num(o, b->similarity);
        fprintf(o, ":%d:%d:", b->hamming, b->graph_edit);
        csv_num(o, b->fitness);
    }
    fputc('\n', o);
}

int a4nn_report_write_csv(FILE *o, const a4nn_report_run *run, a4nn_error *err)
{
    fputs("run,id,genome,mflops,params,worker,stop_reason,fitness,last_val_acc,epochs_trained,"
          "converged_after,on_front,start_time,end_time,epoch,train_acc,val_acc,loss,seconds,"
          "prediction,uncertainty,converged,neighbours\n",
          o);
    for (int i = 0; i < run->n_models; i++) {
        const a4nn_report_model *m = &run->models[i];
        int rows = m->n_epochs > 0 ? m->n_epochs : 1;
        for (int r = 0; r < rows; r++) {
            csv_str(o, run->name);
            fprintf(o, ",%d,", m->id);
            csv_str(o, m->genome_text);
            fputc(',', o), csv_num(o, m->mflops);
            fprintf(o, ",%ld,%d,", m->params, m->worker);
            csv_str(o, m->stop_reason);
            fputc(',', o), csv_num(o, m->fitness);
            fputc(',', o), csv_num(o, m->last_val);
            fprintf(o, ",%d,", m->epochs_trained);
            csv_num(o, converged_after(m));
            fprintf(o, ",%d,", m->on_front);
            csv_time(o, m->start_time), fputc(',', o), csv_time(o, m->end_time);
            if (m->n_epochs == 0) {
                fputs(",,,,,,,,", o);
                csv_neighbours(o, m);
                continue;
            }
            const a4nn_report_epoch *e = &m->epochs[r];
            fprintf(o, ",%d,", e->epoch);
            csv_num(o, e->train_acc), fputc(',', o), csv_num(o, e->val_acc), fputc(',', o);
            csv_num(o, e->loss), fputc(',', o), csv_num(o, e->seconds);
            const a4nn_report_pred *p = NULL;
            for (int k = 0; k < m->n_preds; k++)
                if (m->preds[k].epoch == e->epoch)
                    p = &m->preds[k];
            fputc(',', o);
            if (p) {
                csv_num(o, p->prediction), fputc(',', o), csv_num(o, p->uncertainty);
                fprintf(o, ",%d", p->converged);
            } else
                fputs(",,", o);
            csv_neighbours(o, m);
        }
    }
    if (ferror(o))
        return a4nn_errorf(err, "writing CSV failed");
    return A4NN_OK;
}
