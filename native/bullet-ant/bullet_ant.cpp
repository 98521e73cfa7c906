// The Bullet Ant: PyBullet's AntBulletEnv-v0 rebuilt on libbullet's btMultiBody (docs/bullet-ant.md), one
// btSoftMultiBodyDynamicsWorld (PyBullet's world class) per ant so ants can be stepped on different threads. Plain C
// functions over caller-owned buffers; the C# side (src/Physics/Native/BulletNative.cs) mirrors every signature.
#include <btBulletDynamicsCommon.h>
#include <BulletCollision/CollisionShapes/btMultiSphereShape.h>
#include <BulletSoftBody/btSoftBodyRigidBodyCollisionConfiguration.h>
#include <BulletSoftBody/btSoftMultiBodyDynamicsWorld.h>
#include <BulletDynamics/Featherstone/btMultiBody.h>
#include <BulletDynamics/Featherstone/btMultiBodyConstraintSolver.h>
#include <BulletDynamics/Featherstone/btMultiBodyDynamicsWorld.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointLimitConstraint.h>
#include <BulletDynamics/Featherstone/btMultiBodyJointMotor.h>
#include <BulletDynamics/Featherstone/btMultiBodyLinkCollider.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#ifndef BT_USE_DOUBLE_PRECISION
#error "build against bullet-float64 (pkg-config), as PyBullet is built in double precision"
#endif

namespace
{
constexpr int kAbiVersion = 2;
constexpr int kLinks = 20;
constexpr int kJoints = 8;
constexpr int kFeet = 4;
constexpr int kObs = 28;
constexpr int kParts = 22;
constexpr int kSubsteps = 4;
constexpr double kDt = 0.0165;                  // one env step (docs/bullet-ant.md#simulation)
constexpr double kSubstep = kDt / kSubsteps;    // exact: a power-of-two division
constexpr double kTorque = 250.0;               // power 2.5 x gear 100
constexpr double kTargetX = 1000.0, kTargetY = 0.0;
constexpr double kInitialZ = 0.75;
constexpr double kAntFriction = 1.5;
constexpr double kFloorRestitution = 0.5;
// Collision filter values as PyBullet gives them (docs/bullet-ant.md#model): the floor's and the ant's geoms' from
// the files, the hinge links' (no geom) URDF2Bullet's default for a dynamic link.
constexpr int kFloorGroup = 2, kFloorMask = btBroadphaseProxy::AllFilter ^ 2;
constexpr int kAntGroup = 1, kAntMask = 0;
constexpr int kHingeGroup = btBroadphaseProxy::DefaultFilter, kHingeMask = btBroadphaseProxy::AllFilter;
constexpr double kHingeFriction = 0.5;      // btCollisionObject's default: the importer sets nothing on a link without geoms
constexpr double kFloorMargin = 0.001;      // URDF2Bullet's default collision margin, set on the plane
constexpr double kMotorGain = 0.1;          // pybullet_envs' positionGain and velocityGain on the switched-off motors

// Joint links of hip_1, ankle_1, hip_2, ankle_2, hip_3, ankle_3, hip_4, ankle_4 (the action order) and the foot links.
constexpr int kJointLink[kJoints] = {1, 3, 6, 8, 11, 13, 16, 18};
constexpr int kFootLink[kFeet] = {4, 9, 14, 19};

// Leg directions in file order (legs 1..4), ankle axes as written in ant.xml (not normalised) and ankle ranges (deg).
constexpr float kLegSign[4][2] = {{1, 1}, {-1, 1}, {-1, -1}, {1, -1}};
constexpr float kAnkleAxis[4][2] = {{-1, 1}, {1, 1}, {-1, 1}, {1, 1}};
constexpr float kAnkleRange[4][2] = {{30, 100}, {-100, -30}, {-100, -30}, {30, 100}};
constexpr float kHipRange[2] = {-40, 40};

// The MJCF importer parses numbers as float32 and converts degrees with Bullet3's float pi.
double Deg(float deg)
{
    const float pi = 6.283185307179586232f * 0.5f;
    return deg * pi / 180;
}

// PyBullet's OR filter: a pair collides when either side's group meets the other's mask.
struct OrFilter : btOverlapFilterCallback
{
    bool needBroadphaseCollision(btBroadphaseProxy* a, btBroadphaseProxy* b) const override
    {
        return (a->m_collisionFilterGroup & b->m_collisionFilterMask) != 0 || (b->m_collisionFilterGroup & a->m_collisionFilterMask) != 0;
    }
};

// numpy's pairwise sum for fewer than 128 values (eight running sums), which np.mean uses.
template <typename T>
T NumpySum(const T* a, int n)
{
    if (n < 8)
    {
        T s = 0;
        for (int i = 0; i < n; i++) s += a[i];
        return s;
    }
    T r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    int i = 8;
    for (; i < n - n % 8; i += 8)
        for (int j = 0; j < 8; j++) r[j] += a[i + j];
    T s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) s += a[i];
    return s;
}

// Debian's libbullet is built for baseline x86-64, so its vector code is legacy-encoded SSE. .NET copies small blocks
// with 256-bit AVX and may enter native code with the upper halves of the ymm registers dirty; every legacy SSE
// instruction then pays a state-transition penalty (measured: Bullet ran ~20% slower behind one Buffer.MemoryCopy,
// docs/bullet-ant.md#speed). The hot entry points clear that state first, as compilers do around AVX code.
#if defined(__x86_64__)
__attribute__((target("avx"))) void ZeroUpperAvx() { _mm256_zeroupper(); }
void ClearUpperVectorState()
{
    static const bool hasAvx = (__builtin_cpu_init(), __builtin_cpu_supports("avx") != 0);
    if (hasAvx) ZeroUpperAvx();
}
#else
void ClearUpperVectorState() {}
#endif

float Clip5(double v)
{
    float f = static_cast<float>(v);
    return f < -5.0f ? -5.0f : (f > 5.0f ? 5.0f : f);
}

// Bullet's multibody solver, recording which contact manifolds reach it in a substep and in what order (those of the
// last substep stay), so tests can check the order PyBullet's pair setting gives (docs/bullet-ant.md#contact-order).
struct RecordingSolver : btMultiBodyConstraintSolver
{
    static constexpr int kFields = 4;  // per manifold: proxy uid of body 0, of body 1, contact points, ant part (0 torso, 1 + link)
    int order[(kLinks + 1) * kFields] = {};
    int count = 0;
    const btMultiBody* ant = nullptr;

    // Called once per substep before the islands are solved (one solveMultiBodyGroup per island, then one more).
    void prepareSolve(int numBodies, int numManifolds) override
    {
        count = 0;
        btMultiBodyConstraintSolver::prepareSolve(numBodies, numManifolds);
    }

    void solveMultiBodyGroup(btCollisionObject** bodies, int numBodies, btPersistentManifold** manifold, int numManifolds,
                             btTypedConstraint** constraints, int numConstraints, btMultiBodyConstraint** multiBodyConstraints,
                             int numMultiBodyConstraints, const btContactSolverInfo& info, btIDebugDraw* debugDrawer,
                             btDispatcher* dispatcher) override
    {
        for (int m = 0; m < numManifolds && count <= kLinks; m++, count++)
        {
            const auto* b0 = static_cast<const btMultiBodyLinkCollider*>(manifold[m]->getBody0());
            const auto* b1 = static_cast<const btMultiBodyLinkCollider*>(manifold[m]->getBody1());
            const btMultiBodyLinkCollider* part = b0->m_multiBody == ant ? b0 : b1;
            int* o = order + kFields * count;
            o[0] = b0->getBroadphaseHandle()->m_uniqueId;
            o[1] = b1->getBroadphaseHandle()->m_uniqueId;
            o[2] = manifold[m]->getNumContacts();
            o[3] = part->m_link + 1;
        }
        btMultiBodyConstraintSolver::solveMultiBodyGroup(bodies, numBodies, manifold, numManifolds, constraints, numConstraints,
                                                         multiBodyConstraints, numMultiBodyConstraints, info, debugDrawer, dispatcher);
    }
};

struct Ant
{
    // PyBullet's world (docs/bullet-ant.md#simulation): soft-multibody world and collision configuration, OR filter on
    // a hashed pair cache, dbvt broadphase, multibody solver.
    btSoftBodyRigidBodyCollisionConfiguration config;
    btCollisionDispatcher dispatcher{&config};
    btHashedOverlappingPairCache* pairs = new btHashedOverlappingPairCache();  // owned by the broadphase
    OrFilter filter;
    btDbvtBroadphase broadphase{pairs};
    RecordingSolver solver;
    btSoftMultiBodyDynamicsWorld world{&dispatcher, &broadphase, &solver, &config};

    std::vector<std::unique_ptr<btCollisionShape>> shapes;
    std::vector<std::unique_ptr<btMultiBodyLinkCollider>> colliders;
    std::vector<std::unique_ptr<btMultiBodyConstraint>> constraints;
    std::unique_ptr<btMultiBody> floor, body;
    btMultiBodyLinkCollider* floorCollider = nullptr;
    btMultiBodyLinkCollider* footCollider[kFeet] = {};
    double lo[kJoints] = {}, hi[kJoints] = {};
    bool quirks = true;

    // Episode state that is not Bullet's: the lagged foot flags and the last potential.
    float feet[kFeet] = {};
    double potential = 0;

    btAlignedObjectArray<btQuaternion> scratchRot;
    btAlignedObjectArray<btVector3> scratchPos;

    Ant(double floorFriction, bool pyBulletQuirks);
    btCompoundShape* Compound();
    btMultiBodyLinkCollider* AddCollider(btMultiBody* mb, int link, btCollisionShape* shape, int group, int mask);
    void SyncKinematics();
    void SetState(const double* base, const double* q, const double* qd);
    void Observe(float* obs, double* terms);
    bool FootOnFloor(int foot);
};

btCompoundShape* Ant::Compound()
{
    auto* c = new btCompoundShape();
    shapes.emplace_back(c);
    return c;
}

btMultiBodyLinkCollider* Ant::AddCollider(btMultiBody* mb, int link, btCollisionShape* shape, int group, int mask)
{
    auto* col = new btMultiBodyLinkCollider(mb, link);
    colliders.emplace_back(col);
    col->setCollisionShape(shape);
    world.addCollisionObject(col, group, mask);
    if (link < 0) mb->setBaseCollider(col);
    else mb->getLink(link).m_collider = col;
    return col;
}

Ant::Ant(double floorFriction, bool pyBulletQuirks) : quirks(pyBulletQuirks)
{
    pairs->setOverlapFilterCallback(&filter);
    broadphase.setVelocityPrediction(0);
    world.setForceUpdateAllAabbs(false);
    world.setGravity(btVector3(0, 0, -9.8));
    // pybullet_envs' deterministicOverlappingPairs=1: pairs processed sorted by proxy uid, and the solver gets the
    // manifolds with contact points sorted by their bodies' proxy uids (docs/bullet-ant.md#contact-order).
    world.getDispatchInfo().m_deterministicOverlappingPairs = true;
    btContactSolverInfo& si = world.getSolverInfo();  // docs/bullet-ant.md#simulation
    si.m_numIterations = 5;
    si.m_erp2 = 0.9;
    si.m_frictionERP = 0.2;
    si.m_erp = 0.2;
    si.m_linearSlop = 0.00001;
    si.m_warmstartingFactor = 0.1;
    si.m_splitImpulse = 1;
    si.m_minimumSolverBatchSize = 0;
    si.m_leastSquaresResidualThreshold = 1e-7;

    // The floor first: a fixed-base multibody without links holding a bare static plane, as the importer unwraps a
    // one-child compound at identity (docs/bullet-ant.md#build-order).
    floor.reset(new btMultiBody(0, 0, btVector3(0, 0, 0), true, false));
    floor->finalizeMultiDof();
    world.addMultiBody(floor.get());
    auto* plane = new btStaticPlaneShape(btVector3(0, 0, 1), 0);
    plane->setMargin(kFloorMargin);
    shapes.emplace_back(plane);
    floorCollider = AddCollider(floor.get(), -1, plane, kFloorGroup, kFloorMask);
    floorCollider->setCollisionFlags(floorCollider->getCollisionFlags() | btCollisionObject::CF_STATIC_OBJECT);
    floorCollider->setFriction(floorFriction);
    floorCollider->setRestitution(kFloorRestitution);

    // The ant: torso as floating base, then each leg depth-first (docs/bullet-ant.md#model).
    const double r = 0.08f, torsoR = 0.25f, density = 1000;
    const double torsoMass = density * (4. / 3. * SIMD_PI * torsoR * torsoR * torsoR);
    auto* sphere = new btSphereShape(torsoR);
    shapes.emplace_back(sphere);
    btVector3 torsoInertia;
    sphere->calculateLocalInertia(torsoMass, torsoInertia);
    body.reset(new btMultiBody(kLinks, torsoMass, torsoInertia, false, false));
    solver.ant = body.get();
    body->setBaseWorldTransform(btTransform(btQuaternion::getIdentity(), btVector3(0, 0, 0.75f)));

    struct Capsule
    {
        double mass;
        btVector3 inertia, mid;
        btCompoundShape* shape;
    };
    auto capsule = [&](const btVector3& to) {
        btVector3 from(0, 0, 0), mid = 0.5 * (to + from);
        double h = (from - to).length();
        double mass = density * (4. / 3. * SIMD_PI * r * r * r + SIMD_PI * r * r * h);
        btVector3 centers[2] = {from, to};
        btScalar radii[2] = {r, r};
        auto* ms = new btMultiSphereShape(centers, radii, 2);
        shapes.emplace_back(ms);
        btCompoundShape* c = Compound();
        c->addChildShape(btTransform(btQuaternion::getIdentity(), -mid), ms);
        btVector3 inertia;
        c->calculateLocalInertia(mass, inertia);
        return Capsule{mass, inertia, mid, c};
    };

    std::vector<std::pair<int, btCompoundShape*>> linkShapes;  // null for the hinge links' empty colliders
    const btQuaternion id = btQuaternion::getIdentity();
    const btVector3 zero(0, 0, 0);
    for (int k = 0; k < 4; k++)
    {
        const double sx = kLegSign[k][0], sy = kLegSign[k][1];
        const btVector3 step(0.2f * sx, 0.2f * sy, 0);
        Capsule leg = capsule(step), aux = capsule(step), foot = capsule(btVector3(0.4f * sx, 0.4f * sy, 0));
        int base = 5 * k;
        body->setupFixed(base, leg.mass, leg.inertia, -1, id, zero, leg.mid);
        body->setupRevolute(base + 1, 0, zero, base, id, btVector3(0, 0, 1), step - leg.mid, zero, true);
        body->setupFixed(base + 2, aux.mass, aux.inertia, base + 1, id, zero, aux.mid);
        body->setupRevolute(base + 3, 0, zero, base + 2, id, btVector3(kAnkleAxis[k][0], kAnkleAxis[k][1], 0), step - aux.mid, zero, true);
        body->setupFixed(base + 4, foot.mass, foot.inertia, base + 3, id, zero, foot.mid);
        linkShapes.push_back({base, leg.shape});
        linkShapes.push_back({base + 1, nullptr});
        linkShapes.push_back({base + 2, aux.shape});
        linkShapes.push_back({base + 3, nullptr});
        linkShapes.push_back({base + 4, foot.shape});
        lo[2 * k] = Deg(kHipRange[0]);
        hi[2 * k] = Deg(kHipRange[1]);
        lo[2 * k + 1] = Deg(kAnkleRange[k][0]);
        hi[2 * k + 1] = Deg(kAnkleRange[k][1]);
    }
    // pybullet_envs loads the ant with self-collision on and all parents excluded; the ant's masks keep it off anyway.
    for (int l = 0; l < kLinks; l++) body->getLink(l).m_flags |= BT_MULTIBODYLINKFLAGS_DISABLE_ALL_PARENT_COLLISION;
    body->setHasSelfCollision(true);
    body->finalizeMultiDof();
    world.addMultiBody(body.get());

    auto antMaterial = [](btCollisionObject* c) {
        c->setFriction(kAntFriction);
        c->setRollingFriction(0);
        c->setSpinningFriction(0);
        c->setRestitution(0);
    };
    antMaterial(AddCollider(body.get(), -1, sphere, kAntGroup, kAntMask));  // the bare sphere, unwrapped like the floor
    for (auto& [link, shape] : linkShapes)
    {
        if (shape == nullptr)
        {
            AddCollider(body.get(), link, Compound(), kHingeGroup, kHingeMask)->setFriction(kHingeFriction);
            continue;
        }
        auto* col = AddCollider(body.get(), link, shape, kAntGroup, kAntMask);
        antMaterial(col);
        for (int f = 0; f < kFeet; f++)
            if (kFootLink[f] == link) footCollider[f] = col;
    }
    // One limit per hinge in link order, then PyBullet's velocity motors, switched off (maximum impulse 0).
    for (int j = 0; j < kJoints; j++)
    {
        constraints.emplace_back(new btMultiBodyJointLimitConstraint(body.get(), kJointLink[j], lo[j], hi[j]));
        world.addMultiBodyConstraint(constraints.back().get());
    }
    if (quirks)
        for (int j = 0; j < kJoints; j++)
        {
            auto* motor = new btMultiBodyJointMotor(body.get(), kJointLink[j], 0, 0, 0);
            motor->setPositionTarget(0, kMotorGain);
            motor->setVelocityTarget(0, kMotorGain);
            constraints.emplace_back(motor);
            world.addMultiBodyConstraint(motor);
            motor->finalizeMultiDof();
        }
    SyncKinematics();
}

void Ant::SyncKinematics()
{
    body->forwardKinematics(scratchRot, scratchPos);
    body->updateCollisionObjectWorldTransforms(scratchRot, scratchPos);
}

// base: position (3), orientation quaternion x y z w (4), linear (3) and angular (3) world velocity.
void Ant::SetState(const double* base, const double* q, const double* qd)
{
    btTransform t(btQuaternion(base[3], base[4], base[5], base[6]), btVector3(base[0], base[1], base[2]));
    body->setBaseWorldTransform(t);
    body->setBaseVel(btVector3(base[7], base[8], base[9]));
    body->setBaseOmega(btVector3(base[10], base[11], base[12]));
    for (int j = 0; j < kJoints; j++)
    {
        body->setJointPos(kJointLink[j], q[j]);
        body->setJointVel(kJointLink[j], qd[j]);
    }
    body->clearForcesAndTorques();
    body->clearConstraintForces();
    SyncKinematics();
    // A new state starts with no contact history: drop every contact manifold (docs/bullet-ant.md#reset).
    for (auto& c : colliders) pairs->cleanProxyFromPairs(c->getBroadphaseHandle(), &dispatcher);
    pairs->cleanProxyFromPairs(floorCollider->getBroadphaseHandle(), &dispatcher);
}

bool Ant::FootOnFloor(int foot)
{
    const btCollisionObject* f = footCollider[foot];
    for (int m = 0; m < dispatcher.getNumManifolds(); m++)
    {
        const btPersistentManifold* pm = dispatcher.getInternalManifoldPointer()[m];
        if (pm->getNumContacts() == 0) continue;
        const btCollisionObject *a = pm->getBody0(), *b = pm->getBody1();
        if ((a == f && b == floorCollider) || (b == f && a == floorCollider)) return true;
    }
    return false;
}

// The 28 floats and the terms that depend on the state alone: terms[0] alive, [1] potential, [2] limit count,
// [3] finite (1 or 0). Joint speeds (0.1 qdot, float32) are obs[9], obs[11], ..., obs[23].
void Ant::Observe(float* obs, double* terms)
{
    btTransform torso = body->getBaseWorldTransform();
    btVector3 p = torso.getOrigin();
    btQuaternion quat = torso.getRotation();
    double x[kParts], y[kParts];
    int n = 0;
    auto part = [&](const btVector3& v) { x[n] = v.x(); y[n] = v.y(); n++; };
    // Parts in PyBullet's order: front_left_leg, torso, links 1..19, the floor (docs/bullet-ant.md#observation).
    part(body->getLink(0).m_cachedWorldTransform.getOrigin());
    part(p);
    for (int l = 1; l < kLinks; l++) part(body->getLink(l).m_cachedWorldTransform.getOrigin());
    int count = quirks ? kParts : kParts - 1;
    if (quirks) part(floor->getBaseWorldTransform().getOrigin());
    double bx = NumpySum(x, count) / count, by = NumpySum(y, count) / count;

    const double qx = quat.x(), qy = quat.y(), qz = quat.z(), qw = quat.w();
    double sqx = qx * qx, sqy = qy * qy, sqz = qz * qz, squ = qw * qw;
    double sarg = -2 * (qx * qz - qw * qy), roll, pitch, yaw;
    if (sarg <= -0.99999)
    {
        roll = 0;
        pitch = -0.5 * M_PI;
        yaw = 2 * std::atan2(qx, -qy);
    }
    else if (sarg >= 0.99999)
    {
        roll = 0;
        pitch = 0.5 * M_PI;
        yaw = 2 * std::atan2(-qx, qy);
    }
    else
    {
        roll = std::atan2(2 * (qy * qz + qw * qx), squ - sqx - sqy + sqz);
        pitch = std::asin(sarg);
        yaw = std::atan2(2 * (qx * qy + qw * qz), squ + sqx - sqy - sqz);
    }
    double theta = std::atan2(kTargetY - by, kTargetX - bx);
    double dist = std::sqrt((kTargetY - by) * (kTargetY - by) + (kTargetX - bx) * (kTargetX - bx));
    double angle = theta - yaw;
    btVector3 v = body->getBaseVel();
    double c = std::cos(-yaw), s = std::sin(-yaw);
    double vx = c * v.x() - s * v.y(), vy = s * v.x() + c * v.y(), vz = v.z();

    float more[8] = {static_cast<float>(p.z() - kInitialZ), static_cast<float>(std::sin(angle)), static_cast<float>(std::cos(angle)),
                     static_cast<float>(0.3 * vx), static_cast<float>(0.3 * vy), static_cast<float>(0.3 * vz),
                     static_cast<float>(roll), static_cast<float>(pitch)};
    bool finite = std::isfinite(dist) && std::isfinite(yaw);
    for (int i = 0; i < 8; i++) obs[i] = Clip5(more[i]);
    int atLimit = 0;
    for (int j = 0; j < kJoints; j++)
    {
        double q = body->getJointPos(kJointLink[j]), qd = body->getJointVel(kJointLink[j]);
        double mid = 0.5 * (lo[j] + hi[j]);
        float rel = static_cast<float>(2 * (q - mid) / (hi[j] - lo[j]));
        float speed = static_cast<float>(0.1 * qd);
        finite = finite && std::isfinite(rel) && std::isfinite(speed);
        if (std::fabs(rel) > 0.99f) atLimit++;
        obs[8 + 2 * j] = Clip5(rel);
        obs[9 + 2 * j] = Clip5(speed);
    }
    for (int f = 0; f < kFeet; f++) obs[24 + f] = feet[f];
    // alive reads the clipped float32 height plus the initial height, as pybullet_envs does.
    terms[0] = static_cast<double>(obs[0]) + kInitialZ > 0.26 ? 1.0 : -1.0;
    terms[1] = -dist / kDt;
    terms[2] = atLimit;
    terms[3] = finite ? 1.0 : 0.0;
}
}  // namespace

extern "C" {

int cbp_bullet_abi_version() { return kAbiVersion; }

void* cbp_bullet_ant_create(double floorFriction, int pyBulletQuirks)
{
    static const bool marginSet = (gDbvtMargin = 0, true);  // PyBullet's broadphase margin (process-wide)
    (void)marginSet;
    try
    {
        return new Ant(floorFriction, pyBulletQuirks != 0);
    }
    catch (const std::bad_alloc&)
    {
        return nullptr;
    }
}

void cbp_bullet_ant_destroy(void* ant)
{
    auto* a = static_cast<Ant*>(ant);
    if (a == nullptr) return;
    for (auto& c : a->constraints) a->world.removeMultiBodyConstraint(c.get());
    for (auto& c : a->colliders) a->world.removeCollisionObject(c.get());
    a->world.removeMultiBody(a->body.get());
    a->world.removeMultiBody(a->floor.get());
    delete a;
}

void cbp_bullet_ant_set_floor_friction(void* ant, double friction) { static_cast<Ant*>(ant)->floorCollider->setFriction(friction); }

// frictions[0] the floor's lateral friction, [1..21] the torso's and the 20 links' colliders'.
void cbp_bullet_ant_frictions(void* ant, double* frictions)
{
    auto* a = static_cast<Ant*>(ant);
    frictions[0] = a->floorCollider->getFriction();
    frictions[1] = a->body->getBaseCollider()->getFriction();
    for (int l = 0; l < kLinks; l++) frictions[2 + l] = a->body->getLink(l).m_collider->getFriction();
}

// Per body (torso, then links 0..19): mass, inertia (3), parent, joint type (btMultibodyLink::eFeatherstoneJointType),
// joint axis (3, as stored), lower and upper limit (0 where none), in 11 doubles.
void cbp_bullet_ant_links(void* ant, double* out)
{
    auto* a = static_cast<Ant*>(ant);
    btMultiBody* b = a->body.get();
    std::memset(out, 0, sizeof(double) * 11 * (kLinks + 1));
    out[0] = b->getBaseMass();
    for (int i = 0; i < 3; i++) out[1 + i] = b->getBaseInertia()[i];
    out[4] = -1;
    out[5] = -1;
    for (int l = 0; l < kLinks; l++)
    {
        double* o = out + 11 * (l + 1);
        const btMultibodyLink& link = b->getLink(l);
        o[0] = link.m_mass;
        for (int i = 0; i < 3; i++) o[1 + i] = link.m_inertiaLocal[i];
        o[4] = link.m_parent;
        o[5] = link.m_jointType;
        for (int i = 0; i < 3; i++) o[6 + i] = link.getAxisTop(0)[i];
    }
    for (int j = 0; j < kJoints; j++)
    {
        double* o = out + 11 * (kJointLink[j] + 1);
        o[9] = a->lo[j];
        o[10] = a->hi[j];
    }
}

// Link world positions as an observation reads them (cached at the start of the last substep), 3 per link.
void cbp_bullet_ant_link_positions(void* ant, double* out)
{
    auto* a = static_cast<Ant*>(ant);
    for (int l = 0; l < kLinks; l++)
    {
        btVector3 p = a->body->getLink(l).m_cachedWorldTransform.getOrigin();
        for (int i = 0; i < 3; i++) out[3 * l + i] = p[i];
    }
}

// Whether each foot's collider touches the floor now (what the next observation's flags will show).
void cbp_bullet_ant_foot_contacts(void* ant, float* out)
{
    auto* a = static_cast<Ant*>(ant);
    for (int f = 0; f < kFeet; f++) out[f] = a->FootOnFloor(f) ? 1.0f : 0.0f;
}

// The contact manifolds the solver got in the last substep, in its order: 4 ints each (proxy uid of body 0 and of body 1,
// contact points, ant part: 0 torso, 1 + link index) into out (room for 21). Returns how many.
int cbp_bullet_ant_solver_manifolds(void* ant, int* out)
{
    auto* a = static_cast<Ant*>(ant);
    std::memcpy(out, a->solver.order, sizeof(int) * RecordingSolver::kFields * a->solver.count);
    return a->solver.count;
}

// Proxy uids of the floor's, the torso's and the 20 links' colliders (22 ints): the order they entered the broadphase.
void cbp_bullet_ant_proxy_uids(void* ant, int* out)
{
    auto* a = static_cast<Ant*>(ant);
    out[0] = a->floorCollider->getBroadphaseHandle()->m_uniqueId;
    out[1] = a->body->getBaseCollider()->getBroadphaseHandle()->m_uniqueId;
    for (int l = 0; l < kLinks; l++) out[2 + l] = a->body->getLink(l).m_collider->getBroadphaseHandle()->m_uniqueId;
}

// Torso position (3), quaternion x y z w (4), linear and angular velocity (6); joint q and qdot in action order.
void cbp_bullet_ant_get_state(void* ant, double* base, double* q, double* qd)
{
    auto* a = static_cast<Ant*>(ant);
    btTransform t = a->body->getBaseWorldTransform();
    btQuaternion r = t.getRotation();
    btVector3 v = a->body->getBaseVel(), w = a->body->getBaseOmega();
    const double vals[13] = {t.getOrigin().x(), t.getOrigin().y(), t.getOrigin().z(), r.x(), r.y(), r.z(), r.w(),
                             v.x(), v.y(), v.z(), w.x(), w.y(), w.z()};
    std::memcpy(base, vals, sizeof vals);
    for (int j = 0; j < kJoints; j++)
    {
        q[j] = a->body->getJointPos(kJointLink[j]);
        qd[j] = a->body->getJointVel(kJointLink[j]);
    }
}

// Puts the ant in the given state with no contact history, zero foot flags and the potential of that state, and
// writes its observation. A reset is this with the rest pose and noisy joint angles (docs/bullet-ant.md#reset).
void cbp_bullet_ant_set_state(void* ant, const double* base, const double* q, const double* qd, float* obs)
{
    ClearUpperVectorState();
    auto* a = static_cast<Ant*>(ant);
    a->SetState(base, q, qd);
    for (float& f : a->feet) f = 0;
    double terms[4];
    a->Observe(obs, terms);
    a->potential = terms[1];
}

// One env step: torques 250 clip(a, -1, 1), four substeps, observation, reward terms (alive, progress, electricity,
// limits: terms[0..3]) and then the foot flags for the next observation. Returns 1 if the episode terminated.
int cbp_bullet_ant_step(void* ant, const float* action, float* obs, double* terms)
{
    ClearUpperVectorState();
    auto* a = static_cast<Ant*>(ant);
    for (int j = 0; j < kJoints; j++)
    {
        double u = action[j] < -1.0f ? -1.0 : (action[j] > 1.0f ? 1.0 : static_cast<double>(action[j]));
        a->body->addJointTorque(kJointLink[j], kTorque * u);
    }
    a->world.stepSimulation(kDt, kSubsteps, kSubstep);
    double s[4];
    if (!a->quirks)
        for (int f = 0; f < kFeet; f++) a->feet[f] = a->FootOnFloor(f) ? 1.0f : 0.0f;
    a->Observe(obs, s);
    double progress = s[1] - a->potential;
    a->potential = s[1];
    float power[kJoints], square[kJoints];
    for (int j = 0; j < kJoints; j++)
    {
        power[j] = std::fabs(action[j] * obs[9 + 2 * j]);
        square[j] = action[j] * action[j];
    }
    double electricity = -2.0 * static_cast<double>(NumpySum(power, kJoints) / kJoints)
                       + -0.1 * static_cast<double>(NumpySum(square, kJoints) / kJoints);
    terms[0] = s[0];
    terms[1] = progress;
    terms[2] = electricity;
    terms[3] = -0.1 * s[2];
    if (a->quirks)
        for (int f = 0; f < kFeet; f++) a->feet[f] = a->FootOnFloor(f) ? 1.0f : 0.0f;
    bool finite = s[3] != 0 && std::isfinite(progress);
    for (int i = 0; i < kObs; i++) finite = finite && std::isfinite(obs[i]);
    return s[0] < 0 || !finite ? 1 : 0;
}

// The bench ceiling: torques and stepSimulation only, for ants[0..n) over `steps` steps; actions hold steps rows of
// `stride` floats, ant i reading its 8 at offset 8 (first + i).
void cbp_bullet_ants_step_raw(void* const* ants, int n, int first, const float* actions, int steps, int stride)
{
    ClearUpperVectorState();
    for (int s = 0; s < steps; s++)
        for (int i = 0; i < n; i++)
        {
            auto* a = static_cast<Ant*>(ants[i]);
            const float* u = actions + static_cast<std::int64_t>(s) * stride + 8 * (first + i);
            for (int j = 0; j < kJoints; j++)
            {
                double c = u[j] < -1.0f ? -1.0 : (u[j] > 1.0f ? 1.0 : static_cast<double>(u[j]));
                a->body->addJointTorque(kJointLink[j], kTorque * c);
            }
            a->world.stepSimulation(kDt, kSubsteps, kSubstep);
        }
}
}
