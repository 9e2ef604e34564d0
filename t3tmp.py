import numpy as np, time
from gifsym import schedule, target
from gifsym.decisions.gaussian import *
from gifsym.decisions import grids
import sympy
sch=schedule("linear")
g = GaussianModel.of(sch, target("gaussian:sigma=0.01"))
sig = sympy.lambdify([sympy.Symbol('t', real=True)], sch.a/sch.b)
from gifsym.symbolic.schedule import t
sig = sympy.lambdify([t], sch.a/sch.b, modules="numpy")
for N in (10,20,40):
    t0=time.time()
    for sw in (30,100):
        opt = grids.equidistribute(lambda gr: contributions(g,"heun",gr), N, 0.0, 1.0, 2, sweeps=sw)
        eo = exact_error(g,"heun",opt)
        print(sw, contributions(g,"heun",opt).sum(), eo)
    eu = exact_error(g,"heun",grids.uniform(N,0,1))
    ee = exact_error(g,"heun",grids.edm(N,0,1,sig))
    print(N, time.time()-t0, eo, eu/eo, ee/eo)
