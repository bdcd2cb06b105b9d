
it('loads', async () => {
  const req = (process as any).getBuiltinModule('module').createRequire(__filename);
  const t0 = Date.now();
  const mod = req('mujoco-js');
  const mj = await mod.default();
  console.log('loaded', Date.now() - t0, typeof mj.mj_step);
  mj.FS.writeFile('/a.xml', `<mujoco><worldbody><geom type="plane" size="5 5 .1"/><body pos="0 0 1"><joint type="free"/><geom type="sphere" size=".1" mass="1"/></body></worldbody></mujoco>`);
  const m = mj.MjModel.loadFromXML('/a.xml');
  const d = new mj.MjData(m);
  for (let i = 0; i < 100; i++) mj.mj_step(m, d);
  console.log(Array.from(d.qpos), d.qpos instanceof Float64Array);
});
