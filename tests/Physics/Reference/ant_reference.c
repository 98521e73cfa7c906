/*
 * Independent reference for the Slippery Ant of docs/ant.md, written straight against the MuJoCo 2.2.2 C API
 * with its own MJCF (every attribute spelled out, no <default> classes), to cross-check the C# environment.
 *
 * usage: ant_reference FRICTION ACTIONS_FILE [111|27|contact]
 * Starts at the rest pose, applies each line of ACTIONS_FILE (8 comma-separated numbers) as one env step and prints
 * "reward,terminated,obs..." per step with %.17g, stopping after the first termination.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mujoco.h>

#define LEG(NAME, SX, SY, ANKLE_AXIS, ANKLE_RANGE, HIP, ANKLE)                                                   \
  "<body name='" NAME "_hipbase' pos='0 0 0'>"                                                                    \
  "<geom type='capsule' size='0.08' fromto='0 0 0 " SX "0.2 " SY "0.2 0' condim='3' density='5' "                  \
  "friction='1 0.5 0.5' margin='0.01' conaffinity='0'/>"                                                          \
  "<body name='" NAME "_upper' pos='" SX "0.2 " SY "0.2 0'>"                                                      \
  "<joint name='" HIP "' type='hinge' axis='0 0 1' range='-30 30' limited='true' armature='1' damping='1'/>"       \
  "<geom type='capsule' size='0.08' fromto='0 0 0 " SX "0.2 " SY "0.2 0' condim='3' density='5' "                  \
  "friction='1 0.5 0.5' margin='0.01' conaffinity='0'/>"                                                          \
  "<body name='" NAME "_lower' pos='" SX "0.2 " SY "0.2 0'>"                                                      \
  "<joint name='" ANKLE "' type='hinge' axis='" ANKLE_AXIS "' range='" ANKLE_RANGE "' limited='true' "             \
  "armature='1' damping='1'/>"                                                                                    \
  "<geom type='capsule' size='0.08' fromto='0 0 0 " SX "0.4 " SY "0.4 0' condim='3' density='5' "                  \
  "friction='1 0.5 0.5' margin='0.01' conaffinity='0'/>"                                                          \
  "</body></body></body>"

#define MOTOR(J) "<motor joint='" J "' gear='150' ctrllimited='true' ctrlrange='-1 1'/>"

static const char* kAntXml =
  "<mujoco model='reference_ant'>"
  "<compiler angle='degree' coordinate='local' inertiafromgeom='true'/>"
  "<option timestep='0.01' integrator='RK4'/>"
  "<worldbody>"
  "<geom name='ground' type='plane' size='40 40 40' pos='0 0 0' condim='3' conaffinity='1' density='5' "
  "friction='1 0.5 0.5' margin='0.01'/>"
  "<body name='torso' pos='0 0 0.75'>"
  "<geom type='sphere' size='0.25' pos='0 0 0' condim='3' density='5' friction='1 0.5 0.5' margin='0.01' "
  "conaffinity='0'/>"
  "<freejoint name='root'/>"
  LEG("fl", "", "", "-1 1 0", "30 70", "hip_1", "ankle_1")
  LEG("fr", "-", "", "1 1 0", "-70 -30", "hip_2", "ankle_2")
  LEG("bl", "-", "-", "-1 1 0", "-70 -30", "hip_3", "ankle_3")
  LEG("br", "", "-", "1 1 0", "30 70", "hip_4", "ankle_4")
  "</body>"
  "</worldbody>"
  "<actuator>"
  MOTOR("hip_4") MOTOR("ankle_4") MOTOR("hip_1") MOTOR("ankle_1")
  MOTOR("hip_2") MOTOR("ankle_2") MOTOR("hip_3") MOTOR("ankle_3")
  "</actuator>"
  "</mujoco>";

static double clip1(double x) { return x < -1 ? -1 : (x > 1 ? 1 : x); }

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s FRICTION ACTIONS_FILE [111|27|contact]\n", argv[0]);
    return 2;
  }
  double friction = atof(argv[1]);
  const char* mode = argc > 3 ? argv[3] : "111";
  int contact = strcmp(mode, "contact") == 0;
  int with_cfrc = strcmp(mode, "27") != 0;

  mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));
  mj_defaultVFS(vfs);
  int len = (int)strlen(kAntXml);
  if (mj_makeEmptyFileVFS(vfs, "reference_ant.xml", len)) { fprintf(stderr, "vfs\n"); return 1; }
  int id = mj_findFileVFS(vfs, "reference_ant.xml");
  memcpy(vfs->filedata[id], kAntXml, len);
  char err[1000] = "";
  mjModel* m = mj_loadXML("reference_ant.xml", vfs, err, sizeof(err));
  mj_deleteVFS(vfs);
  free(vfs);
  if (!m) { fprintf(stderr, "load: %s\n", err); return 1; }
  if (m->nq != 15 || m->nv != 14 || m->nu != 8 || m->nbody != 14 || m->ngeom != 14) {
    fprintf(stderr, "unexpected sizes nq %d nv %d nu %d nbody %d ngeom %d\n", m->nq, m->nv, m->nu, m->nbody, m->ngeom);
    return 1;
  }
  for (int g = 0; g < m->ngeom; g++) m->geom_friction[3 * g] = friction;

  mjData* d = mj_makeData(m);
  mj_resetData(m, d);  /* rest pose: qpos = qpos0, qvel = 0 */
  mj_forward(m, d);

  FILE* f = fopen(argv[2], "r");
  if (!f) { fprintf(stderr, "cannot open %s\n", argv[2]); return 1; }
  char line[4096];
  const double dt = 5 * m->opt.timestep;
  while (fgets(line, sizeof(line), f)) {
    double a[8];
    char* p = line;
    int n = 0;
    while (n < 8) {
      char* end;
      double v = strtod(p, &end);
      if (end == p) break;
      a[n++] = v;
      p = end;
      while (*p == ',' || *p == ' ') p++;
    }
    if (n == 0) continue;
    if (n != 8) { fprintf(stderr, "bad line\n"); return 1; }

    double x0 = d->xpos[3 * 1 + 0];  /* torso = body 1 */
    double ctrl_cost = 0;
    for (int k = 0; k < 8; k++) { d->ctrl[k] = a[k]; ctrl_cost += a[k] * a[k]; }
    for (int s = 0; s < 5; s++) mj_step(m, d);
    double x1 = d->xpos[3 * 1 + 0];
    if (contact) mj_rnePostConstraint(m, d);
    double contact_cost = 0;
    for (int i = 0; i < 6 * m->nbody; i++) { double c = clip1(d->cfrc_ext[i]); contact_cost += c * c; }
    double reward = (x1 - x0) / dt + 1.0 - 0.5 * ctrl_cost - 5e-4 * contact_cost;

    int finite = 1;
    for (int i = 0; i < m->nq; i++) finite &= isfinite(d->qpos[i]) ? 1 : 0;
    for (int i = 0; i < m->nv; i++) finite &= isfinite(d->qvel[i]) ? 1 : 0;
    int terminated = !finite || d->qpos[2] < 0.2 || d->qpos[2] > 1.0;

    printf("%.17g,%d", reward, terminated);
    for (int i = 2; i < m->nq; i++) printf(",%.17g", d->qpos[i]);
    for (int i = 0; i < m->nv; i++) printf(",%.17g", d->qvel[i]);
    if (with_cfrc)
      for (int i = 0; i < 6 * m->nbody; i++) printf(",%.17g", clip1(d->cfrc_ext[i]));
    printf("\n");
    if (terminated) break;
  }
  fclose(f);
  mj_deleteData(d);
  mj_deleteModel(m);
  return 0;
}
