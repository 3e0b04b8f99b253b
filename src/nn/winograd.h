/* Winograd F(4x4, 3x3) convolutions inside the CPU backend: 3x3, padding 1,
 * stride 1, NCHW images of any channel count. A 6x6 input tile d and a 3x3
 * filter g give a 4x4 output tile A^T [(G g G^T) . (B^T d B)] A: per tile
 * and channel pair 36 multiplies instead of 144, the channel sums being 36
 * independent matrix products per block of tiles. Tiles are transformed a
 * block of tile rows at a time into per-thread workspaces that stay in L2;
 * nothing the size of a whole image's transform is kept. */
#ifndef A4NN_NN_WINOGRAD_H
#define A4NN_NN_WINOGRAD_H

#include <stddef.h>

enum { WINO_XI = 36 }; /* transformed tile positions (6x6) */

typedef struct {
    int c, co;     /* input, output channels */
    int h, w;      /* the map (input and output) */
    int th, tw;    /* 4x4 output tiles down and across */
    int twv;       /* tiles across rounded up to the vector length */
    int s;         /* floats per phase of a deinterleaved row: twv + VL */
    int nb;        /* tile rows per block */
    int t;         /* matrix columns per block: nb * tw rounded up to VL */
    size_t xs;     /* floats from one position's slab of a block to the next */
} wino_geom;

wino_geom wino_geom_of(int c, int co, int h, int w);
/* per-thread workspace of wino_forward_image and wino_dweights_image */
size_t wino_ws_floats(const wino_geom *g);
/* transformed weights G g G^T of co x c filters, in the products' blocks */
size_t wino_u_floats(int co, int c);
void wino_pack(const float *w, int co, int c, float *u);

/* y [co][h][w] = (add: +=) conv(x [c][h][w], the packed weights u) */
void wino_forward_image(const wino_geom *g, const float *x, const float *u, int add, float *ws,
                        float *y);
/* du [36][co][c] += the transformed weight gradient of one image (x, dy) */
void wino_dweights_image(const wino_geom *g, const float *x, const float *dy, float *ws,
                         float *du);
/* dw [co][c][3][3] = G^T du G */
void wino_dweights_finish(const float *du, int co, int c, float *dw);

#endif
