/*
 * Independent reference for the Gym v3 planar bodies of docs/gym-mujoco.md (Hopper-v3, Walker2d-v3, HalfCheetah-v3),
 * written against the MuJoCo 2.2.2 C API from Gym's documentation of the three tasks, with its own MJCF: local
 * coordinates, every attribute spelled out, no <default> classes (the C# envs load src/Physics/Assets, Gym's global-
 * coordinate files with default classes), to cross-check the C# environments.
 *
 * usage: gym_planar_reference hopper|walker2d|halfcheetah FRICTION ACTIONS_FILE
 * Starts at the rest pose (no reset noise), scales every geom's sliding friction by FRICTION, applies each line of
 * ACTIONS_FILE (one number per motor) as one env step and prints "reward,terminated,obs..." per step with %.17g,
 * stopping after the first termination.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mujoco.h>

/* Hopper and Walker2d: torso frame at height 1.25; slide x, slide z, hinge y at the torso centre. */
#define ROOT_JOINTS                                                                                             \
  "<joint name='rootx' type='slide' pos='0 0 0' axis='1 0 0' limited='false' armature='0' damping='0' stiffness='0'/>" \
  "<joint name='rootz' type='slide' pos='0 0 0' axis='0 0 1' ref='1.25' limited='false' armature='0' damping='0' stiffness='0'/>" \
  "<joint name='rooty' type='hinge' pos='0 0 0' axis='0 1 0' limited='false' armature='0' damping='0' stiffness='0'/>"

/* Hopper geoms: condim 1, margin 0.001, solimp (0.8, 0.8, 0.01), solref (0.02, 1), MuJoCo's torsional/rolling defaults. */
#define HOPPER_GEOM(NAME, FROMTO, R, MU)                                                                          \
  "<geom name='" NAME "' type='capsule' fromto='" FROMTO "' size='" R "' contype='1' conaffinity='1' condim='1' "  \
  "margin='0.001' solimp='0.8 0.8 0.01 0.5 2' solref='0.02 1' friction='" MU " 0.005 0.0001' density='1000'/>"
#define HOPPER_HINGE(NAME, POS, RANGE)                                                                            \
  "<joint name='" NAME "' type='hinge' pos='" POS "' axis='0 -1 0' range='" RANGE "' limited='true' armature='1' damping='1'/>"

static const char* kHopperXml =
  "<mujoco model='reference_hopper'>"
  "<compiler angle='degree' coordinate='local' inertiafromgeom='true'/>"
  "<option timestep='0.002' integrator='RK4'/>"
  "<worldbody>"
  "<geom name='floor' type='plane' size='20 20 0.125' pos='0 0 0' contype='1' conaffinity='1' condim='3' margin='0.001' "
  "solimp='0.8 0.8 0.01 0.5 2' solref='0.02 1' friction='1 0.005 0.0001'/>"
  "<body name='torso' pos='0 0 1.25'>" ROOT_JOINTS
  HOPPER_GEOM("torso_geom", "0 0 0.2 0 0 -0.2", "0.05", "0.9")
  "<body name='thigh' pos='0 0 -0.2'>" HOPPER_HINGE("thigh_joint", "0 0 0", "-150 0")
  HOPPER_GEOM("thigh_geom", "0 0 0 0 0 -0.45", "0.05", "0.9")
  "<body name='leg' pos='0 0 -0.7'>" HOPPER_HINGE("leg_joint", "0 0 0.25", "-150 0")
  HOPPER_GEOM("leg_geom", "0 0 0.25 0 0 -0.25", "0.04", "0.9")
  "<body name='foot' pos='0.13 0 -0.35'>" HOPPER_HINGE("foot_joint", "-0.13 0 0.1", "-45 45")
  HOPPER_GEOM("foot_geom", "-0.26 0 0.1 0.13 0 0.1", "0.06", "2.0")
  "</body></body></body></body>"
  "</worldbody>"
  "<actuator>"
  "<motor joint='thigh_joint' gear='200' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='leg_joint' gear='200' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='foot_joint' gear='200' ctrllimited='true' ctrlrange='-1 1'/>"
  "</actuator>"
  "</mujoco>";

/* Walker2d geoms: condim 3, contype 1, conaffinity 0, density 1000, torsional and rolling friction 0.1. */
#define WALKER_GEOM(NAME, FROMTO, R, MU)                                                                          \
  "<geom name='" NAME "' type='capsule' fromto='" FROMTO "' size='" R "' contype='1' conaffinity='0' condim='3' "  \
  "density='1000' friction='" MU " 0.1 0.1'/>"
#define WALKER_HINGE(NAME, POS, RANGE)                                                                            \
  "<joint name='" NAME "' type='hinge' pos='" POS "' axis='0 -1 0' range='" RANGE "' limited='true' armature='0.01' damping='0.1'/>"
#define WALKER_LEG(SUFFIX, FOOT_MU)                                                                               \
  "<body name='thigh" SUFFIX "' pos='0 0 -0.2'>" WALKER_HINGE("thigh" SUFFIX "_joint", "0 0 0", "-150 0")         \
  WALKER_GEOM("thigh" SUFFIX "_geom", "0 0 0 0 0 -0.45", "0.05", "0.9")                                           \
  "<body name='leg" SUFFIX "' pos='0 0 -0.7'>" WALKER_HINGE("leg" SUFFIX "_joint", "0 0 0.25", "-150 0")          \
  WALKER_GEOM("leg" SUFFIX "_geom", "0 0 0.25 0 0 -0.25", "0.04", "0.9")                                          \
  "<body name='foot" SUFFIX "' pos='0.2 0 -0.35'>" WALKER_HINGE("foot" SUFFIX "_joint", "-0.2 0 0.1", "-45 45")   \
  WALKER_GEOM("foot" SUFFIX "_geom", "-0.2 0 0.1 0 0 0.1", "0.06", FOOT_MU)                                       \
  "</body></body></body>"

static const char* kWalkerXml =
  "<mujoco model='reference_walker2d'>"
  "<compiler angle='degree' coordinate='local' inertiafromgeom='true'/>"
  "<option timestep='0.002' integrator='RK4'/>"
  "<worldbody>"
  "<geom name='floor' type='plane' size='40 40 40' pos='0 0 0' contype='1' conaffinity='1' condim='3' friction='0.7 0.1 0.1'/>"
  "<body name='torso' pos='0 0 1.25'>" ROOT_JOINTS
  WALKER_GEOM("torso_geom", "0 0 0.2 0 0 -0.2", "0.05", "0.9")
  WALKER_LEG("", "0.9")
  WALKER_LEG("_left", "1.9")
  "</body>"
  "</worldbody>"
  "<actuator>"
  "<motor joint='thigh_joint' gear='100' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='leg_joint' gear='100' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='foot_joint' gear='100' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='thigh_left_joint' gear='100' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='leg_left_joint' gear='100' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='foot_left_joint' gear='100' ctrllimited='true' ctrlrange='-1 1'/>"
  "</actuator>"
  "</mujoco>";

/* HalfCheetah: every geom condim 3, contype 1, conaffinity 0, friction (0.4, 0.1, 0.1), solimp (0, 0.8, 0.01), solref
 * (0.02, 1); every leg hinge armature 0.1, limited, limit solimp (0, 0.8, 0.03), limit solref (0.02, 1). */
#define CHEETAH_GEOM(NAME, EXTRA, SIZE)                                                                           \
  "<geom name='" NAME "' type='capsule' " EXTRA " size='" SIZE "' contype='1' conaffinity='0' condim='3' "         \
  "friction='0.4 0.1 0.1' solimp='0 0.8 0.01 0.5 2' solref='0.02 1'/>"
#define CHEETAH_HINGE(NAME, RANGE, K, D)                                                                          \
  "<joint name='" NAME "' type='hinge' pos='0 0 0' axis='0 1 0' range='" RANGE "' limited='true' armature='0.1' " \
  "stiffness='" K "' damping='" D "' solimplimit='0 0.8 0.03 0.5 2' solreflimit='0.02 1'/>"
#define CHEETAH_ROOT(NAME, TYPE, AXIS)                                                                            \
  "<joint name='" NAME "' type='" TYPE "' pos='0 0 0' axis='" AXIS "' limited='false' armature='0' damping='0' stiffness='0'/>"

static const char* kCheetahXml =
  "<mujoco model='reference_cheetah'>"
  "<compiler angle='radian' coordinate='local' inertiafromgeom='true' settotalmass='14'/>"
  "<option timestep='0.01' gravity='0 0 -9.81' integrator='Euler'/>"
  "<worldbody>"
  "<geom name='floor' type='plane' size='40 40 40' pos='0 0 0' contype='1' conaffinity='1' condim='3' "
  "friction='0.4 0.1 0.1' solimp='0 0.8 0.01 0.5 2' solref='0.02 1'/>"
  "<body name='torso' pos='0 0 0.7'>"
  CHEETAH_ROOT("rootx", "slide", "1 0 0") CHEETAH_ROOT("rootz", "slide", "0 0 1") CHEETAH_ROOT("rooty", "hinge", "0 1 0")
  CHEETAH_GEOM("torso", "fromto='-0.5 0 0 0.5 0 0'", "0.046")
  CHEETAH_GEOM("head", "pos='0.6 0 0.1' axisangle='0 1 0 0.87'", "0.046 0.15")
  "<body name='bthigh' pos='-0.5 0 0'>" CHEETAH_HINGE("bthigh", "-0.52 1.05", "240", "6")
  CHEETAH_GEOM("bthigh", "pos='0.1 0 -0.13' axisangle='0 1 0 -3.8'", "0.046 0.145")
  "<body name='bshin' pos='0.16 0 -0.25'>" CHEETAH_HINGE("bshin", "-0.785 0.785", "180", "4.5")
  CHEETAH_GEOM("bshin", "pos='-0.14 0 -0.07' axisangle='0 1 0 -2.03'", "0.046 0.15")
  "<body name='bfoot' pos='-0.28 0 -0.14'>" CHEETAH_HINGE("bfoot", "-0.4 0.785", "120", "3")
  CHEETAH_GEOM("bfoot", "pos='0.03 0 -0.097' axisangle='0 1 0 -0.27'", "0.046 0.094")
  "</body></body></body>"
  "<body name='fthigh' pos='0.5 0 0'>" CHEETAH_HINGE("fthigh", "-1 0.7", "180", "4.5")
  CHEETAH_GEOM("fthigh", "pos='-0.07 0 -0.12' axisangle='0 1 0 0.52'", "0.046 0.133")
  "<body name='fshin' pos='-0.14 0 -0.24'>" CHEETAH_HINGE("fshin", "-1.2 0.87", "120", "3")
  CHEETAH_GEOM("fshin", "pos='0.065 0 -0.09' axisangle='0 1 0 -0.6'", "0.046 0.106")
  "<body name='ffoot' pos='0.13 0 -0.18'>" CHEETAH_HINGE("ffoot", "-0.5 0.5", "60", "1.5")
  CHEETAH_GEOM("ffoot", "pos='0.045 0 -0.07' axisangle='0 1 0 -0.6'", "0.046 0.07")
  "</body></body></body>"
  "</body>"
  "</worldbody>"
  "<actuator>"
  "<motor joint='bthigh' gear='120' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='bshin' gear='90' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='bfoot' gear='60' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='fthigh' gear='120' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='fshin' gear='60' ctrllimited='true' ctrlrange='-1 1'/>"
  "<motor joint='ffoot' gear='30' ctrllimited='true' ctrlrange='-1 1'/>"
  "</actuator>"
  "</mujoco>";

/* The task, per Gym's documentation of the v3 environments. */
typedef struct {
  const char* name;
  int nq, nu, frame_skip;
  double ctrl_cost_weight, healthy_reward, obs_velocity_clip;
} Task;

static const Task kTasks[] = {
  {"hopper", 6, 3, 4, 1e-3, 1.0, 10.0},
  {"walker2d", 9, 6, 4, 1e-3, 1.0, 10.0},
  {"halfcheetah", 9, 6, 5, 0.1, 0.0, INFINITY},
};

static double clip(double x, double c) { return x < -c ? -c : (x > c ? c : x); }

/* Healthy after the step? Hopper: z > 0.7, |angle| < 0.2, every other state value (qpos[2:], qvel) inside (-100, 100).
 * Walker2d: 0.8 < z < 2, |angle| < 1. HalfCheetah: always. Every task: a non-finite state ends the episode. */
static int healthy(const char* task, const mjModel* m, const mjData* d) {
  for (int i = 0; i < m->nq; i++) if (!isfinite(d->qpos[i])) return 0;
  for (int i = 0; i < m->nv; i++) if (!isfinite(d->qvel[i])) return 0;
  double z = d->qpos[1], angle = d->qpos[2];
  if (strcmp(task, "hopper") == 0) {
    for (int i = 2; i < m->nq; i++) if (!(fabs(d->qpos[i]) < 100)) return 0;
    for (int i = 0; i < m->nv; i++) if (!(fabs(d->qvel[i]) < 100)) return 0;
    return z > 0.7 && fabs(angle) < 0.2;
  }
  if (strcmp(task, "walker2d") == 0) return z > 0.8 && z < 2.0 && fabs(angle) < 1.0;
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s hopper|walker2d|halfcheetah FRICTION ACTIONS_FILE\n", argv[0]);
    return 2;
  }
  const Task* task = NULL;
  const char* xml = NULL;
  for (int t = 0; t < 3; t++)
    if (strcmp(argv[1], kTasks[t].name) == 0) {
      task = &kTasks[t];
      xml = t == 0 ? kHopperXml : t == 1 ? kWalkerXml : kCheetahXml;
    }
  if (!task) { fprintf(stderr, "unknown task %s\n", argv[1]); return 2; }
  double friction = atof(argv[2]);

  mjVFS* vfs = (mjVFS*)malloc(sizeof(mjVFS));
  mj_defaultVFS(vfs);
  int len = (int)strlen(xml);
  if (mj_makeEmptyFileVFS(vfs, "reference.xml", len)) { fprintf(stderr, "vfs\n"); return 1; }
  int id = mj_findFileVFS(vfs, "reference.xml");
  memcpy(vfs->filedata[id], xml, len);
  char err[1000] = "";
  mjModel* m = mj_loadXML("reference.xml", vfs, err, sizeof(err));
  mj_deleteVFS(vfs);
  free(vfs);
  if (!m) { fprintf(stderr, "load: %s\n", err); return 1; }
  if (m->nq != task->nq || m->nv != task->nq || m->nu != task->nu) {
    fprintf(stderr, "unexpected sizes nq %d nv %d nu %d\n", m->nq, m->nv, m->nu);
    return 1;
  }
  for (int g = 0; g < m->ngeom; g++) m->geom_friction[3 * g] *= friction;

  mjData* d = mj_makeData(m);
  mj_resetData(m, d);  /* rest pose: qpos = qpos0, qvel = 0 */
  mj_forward(m, d);

  FILE* f = fopen(argv[3], "r");
  if (!f) { fprintf(stderr, "cannot open %s\n", argv[3]); return 1; }
  char line[4096];
  const double dt = task->frame_skip * m->opt.timestep;
  while (fgets(line, sizeof(line), f)) {
    double a[16];
    char* p = line;
    int n = 0;
    while (n < 16) {
      char* end;
      double v = strtod(p, &end);
      if (end == p) break;
      a[n++] = v;
      p = end;
      while (*p == ',' || *p == ' ') p++;
    }
    if (n == 0) continue;
    if (n != task->nu) { fprintf(stderr, "bad line\n"); return 1; }

    double x0 = d->qpos[0];
    double ctrl_cost = 0;
    for (int k = 0; k < n; k++) { d->ctrl[k] = a[k]; ctrl_cost += a[k] * a[k]; }
    for (int s = 0; s < task->frame_skip; s++) mj_step(m, d);
    double x1 = d->qpos[0];
    double reward = (x1 - x0) / dt + task->healthy_reward - task->ctrl_cost_weight * ctrl_cost;
    int terminated = !healthy(task->name, m, d);

    printf("%.17g,%d", reward, terminated);
    for (int i = 1; i < m->nq; i++) printf(",%.17g", d->qpos[i]);
    for (int i = 0; i < m->nv; i++) printf(",%.17g", clip(d->qvel[i], task->obs_velocity_clip));
    printf("\n");
    if (terminated) break;
  }
  fclose(f);
  mj_deleteData(d);
  mj_deleteModel(m);
  return 0;
}
